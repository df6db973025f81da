package controller

import (
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	helmrelease "helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
)

func ptr[T any](v T) *T { return &v }

// stalled waits until the HelmRelease is Stalled with reason and returns it.
func stalled(t *testing.T, ns, name, reason string) *v2.HelmRelease {
	t.Helper()
	return waitFor(t, ns, name, 90*time.Second, "Stalled="+reason, func(hr *v2.HelmRelease) bool {
		c := condition(hr, meta.StalledCondition)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason
	})
}

// TestInstallRemediation: a failed install (an object the API server rejects, after Helm
// wrote the release) is uninstalled and tried again while install retries remain; then the
// HelmRelease stalls with RetriesExceeded, Ready keeping the install failure. Fixing the
// values resets the counters and installs.
func TestInstallRemediation(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", withValues("failApply: true"), func(hr *v2.HelmRelease) {
		hr.Spec.Install.Remediation = &v2.InstallRemediation{Retries: 1}
	})
	hr := stalled(t, ns, "app", v2.RetriesExceededReason)
	assertContains(t, "Stalled message", condition(hr, meta.StalledCondition).Message, "Failed to install after 2 attempt(s)")
	ready := condition(hr, meta.ReadyCondition)
	if ready.Status != metav1.ConditionFalse || ready.Reason != v2.InstallFailedReason {
		t.Errorf("Ready = %+v, want False/InstallFailed", ready)
	}
	assertContains(t, "Ready message", ready.Message, "Helm install failed for release "+ns+"/app", "widgets@1.0.0", "Not_A_Valid_Name")
	if hr.Status.InstallFailures != 2 || hr.Status.Failures < 2 {
		t.Errorf("failure counters: %s", describe(hr))
	}
	waitEvent(t, ns, "app", v2.UninstallSucceededReason)
	if rls := latestRelease(t, ns, "app"); rls == nil || rls.Info.Status != helmrelease.StatusFailed {
		t.Errorf("last failure is not remediated (remediateLastFailure defaults to false for installs): %v", rls)
	}

	// Fixed values: counters reset, installed.
	updateHR(t, ns, "app", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("failApply: false") })
	hr = waitReady(t, ns, "app", 60*time.Second)
	if hr.Status.InstallFailures != 0 || condition(hr, meta.StalledCondition) != nil {
		t.Errorf("after fixing the values: %s", describe(hr))
	}
}

// TestUpgradeRollback: a failed upgrade is rolled back to the previous release, retried,
// rolled back again (remediateLastFailure defaults to true with retries), then the
// HelmRelease stalls. A reset request gives it its retries back; a force request upgrades
// at once.
func TestUpgradeRollback(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", withValues("message: one"), func(hr *v2.HelmRelease) {
		hr.Spec.Upgrade.Remediation = &v2.UpgradeRemediation{Retries: 1}
	})
	waitReady(t, ns, "app", 60*time.Second)
	updateHR(t, ns, "app", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("message: two\nfailApply: true") })
	hr := stalled(t, ns, "app", v2.RetriesExceededReason)
	assertContains(t, "Stalled message", condition(hr, meta.StalledCondition).Message, "Failed to upgrade after 2 attempt(s)")
	if c := condition(hr, meta.ReadyCondition); c.Status != metav1.ConditionFalse || c.Reason != v2.RollbackSucceededReason {
		t.Errorf("Ready = %+v, want False/RollbackSucceeded", c)
	}
	if c := condition(hr, v2.RemediatedCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Remediated = %+v", c)
	}
	rls := latestRelease(t, ns, "app")
	if rls.Info.Status != helmrelease.StatusDeployed || rls.Config["message"] != "one" {
		t.Fatalf("release after rollback: v%d %s %v", rls.Version, rls.Info.Status, rls.Config)
	}
	waitEvent(t, ns, "app", v2.RollbackSucceededReason)
	if n := len(suiteEnv.events.Of(v2.HelmReleaseKind, ns, "app", v2.UpgradeFailedReason)); n != 2 {
		t.Errorf("%d UpgradeFailed events, want 2", n)
	}

	// A reset request: the retries start over (and run out again).
	before := latestRelease(t, ns, "app").Version
	token := annotate(t, ns, "app", v2.ResetRequestAnnotation)
	hr = waitFor(t, ns, "app", 90*time.Second, "reset handled and stalled again", func(hr *v2.HelmRelease) bool {
		c := condition(hr, meta.StalledCondition)
		return hr.Status.LastHandledResetAt == token && hr.Status.LastHandledReconcileAt == token && c != nil && c.Status == metav1.ConditionTrue
	})
	if after := latestRelease(t, ns, "app").Version; after <= before+2 {
		t.Errorf("reset did not retry: release v%d before, v%d after", before, after)
	}

	// Fixing the values under a force request upgrades at once.
	updateHR(t, ns, "app", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("message: three") })
	hr = waitReady(t, ns, "app", 60*time.Second)
	if rls := latestRelease(t, ns, "app"); rls.Config["message"] != "three" {
		t.Errorf("after fixing: %v", rls.Config)
	}
	before = latestRelease(t, ns, "app").Version
	token = annotate(t, ns, "app", meta.ForceRequestAnnotation)
	waitFor(t, ns, "app", 60*time.Second, "force handled", func(hr *v2.HelmRelease) bool {
		return hr.Status.LastHandledForceAt == token && isReady(hr) && hr.Status.History.Latest().Version == before+1
	})
}

// TestUpgradeUninstallRemediation: with the uninstall strategy a failed upgrade is
// uninstalled and the release installed again.
func TestUpgradeUninstallRemediation(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", func(hr *v2.HelmRelease) {
		hr.Spec.Upgrade.Remediation = &v2.UpgradeRemediation{Retries: 1, Strategy: ptr(v2.UninstallRemediationStrategy)}
	})
	waitReady(t, ns, "app", 60*time.Second)
	updateHR(t, ns, "app", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("failApply: true") })
	waitEvent(t, ns, "app", v2.UninstallSucceededReason)
	// The values still fail: the reinstall fails too, and without install retries the
	// HelmRelease stalls.
	hr := stalled(t, ns, "app", v2.RetriesExceededReason)
	if hr.Status.LastAttemptedReleaseAction != v2.ReleaseActionInstall {
		t.Errorf("after the uninstall remediation the release is installed again: %s", describe(hr))
	}
	updateHR(t, ns, "app", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("failApply: false") })
	waitReady(t, ns, "app", 60*time.Second)
}

// TestRetryOnFailure: the RetryOnFailure strategy retries a failed upgrade every
// retryInterval, without remediation, and never stalls.
func TestRetryOnFailure(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", func(hr *v2.HelmRelease) {
		hr.Spec.Upgrade.Strategy = &v2.UpgradeStrategy{Name: v2.ActionStrategyRetryOnFailure, RetryInterval: &metav1.Duration{Duration: time.Second}}
	})
	waitReady(t, ns, "app", 60*time.Second)
	updateHR(t, ns, "app", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("failApply: true") })
	hr := waitFor(t, ns, "app", 60*time.Second, "3 upgrade attempts", func(hr *v2.HelmRelease) bool { return hr.Status.UpgradeFailures >= 3 })
	if condition(hr, meta.StalledCondition) != nil || condition(hr, v2.RemediatedCondition) != nil {
		t.Errorf("RetryOnFailure stalled or remediated: %s", describe(hr))
	}
	if c := condition(hr, meta.ReadyCondition); c.Reason != v2.UpgradeFailedReason {
		t.Errorf("Ready = %+v", c)
	}
}

// TestTestFailures: failed tests are remediated like a failed install unless ignored.
func TestTestFailures(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "fails", "widgets", withTests(false), withValues("testPhase: Failed"))
	hr := stalled(t, ns, "fails", v2.RetriesExceededReason)
	if c := condition(hr, meta.ReadyCondition); c.Reason != v2.TestFailedReason {
		t.Errorf("Ready = %+v, want TestFailed", c)
	}
	if c := condition(hr, v2.TestSuccessCondition); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("TestSuccess = %+v", c)
	}
	waitEvent(t, ns, "fails", v2.TestFailedReason)

	newHR(t, ns, "ignored", "widgets", withTests(true), withValues("testPhase: Failed"))
	hr = waitReady(t, ns, "ignored", 60*time.Second)
	if c := condition(hr, meta.ReadyCondition); c.Reason != v2.InstallSucceededReason {
		t.Errorf("Ready with ignored test failures = %+v, want InstallSucceeded", c)
	}
	if c := condition(hr, v2.TestSuccessCondition); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("TestSuccess with ignored failures = %+v", c)
	}
}
