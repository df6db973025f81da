package controller

import (
	"fmt"
	"testing"
	"time"

	helmaction "helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
)

// TestOutOfBandHelm: a `helm upgrade`, `helm rollback` or `helm uninstall` done by hand
// (through the Helm SDK, as the CLI does) is detected at the next reconcile and corrected.
func TestOutOfBandHelm(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	chrt := chartOf(t, "widgets")
	helmChartSource(t, ns, "widgets", chrt)
	newHR(t, ns, "app", "widgets", withValues("message: declared"))
	waitReady(t, ns, "app", 60*time.Second)
	reconcileAndCheck := func(what string) {
		t.Helper()
		token := annotate(t, ns, "app")
		waitFor(t, ns, "app", 60*time.Second, what+" corrected", func(hr *v2.HelmRelease) bool {
			return hr.Status.LastHandledReconcileAt == token && isReady(hr)
		})
		rls := latestRelease(t, ns, "app")
		if rls == nil || rls.Info.Status != helmrelease.StatusDeployed || rls.Config["message"] != "declared" {
			t.Fatalf("after correcting %s: %v", what, rls)
		}
	}

	up := helmaction.NewUpgrade(helmConfig(t, ns))
	up.Namespace = ns
	if _, err := up.Run("app", chrt, map[string]interface{}{"message": "by hand"}); err != nil {
		t.Fatal(err)
	}
	reconcileAndCheck("helm upgrade")

	rb := helmaction.NewRollback(helmConfig(t, ns))
	rb.Version = 2
	if err := rb.Run("app"); err != nil {
		t.Fatal(err)
	}
	reconcileAndCheck("helm rollback")

	if _, err := helmaction.NewUninstall(helmConfig(t, ns)).Run("app"); err != nil {
		t.Fatal(err)
	}
	reconcileAndCheck("helm uninstall")
	if hr := getHR(t, ns, "app"); hr.Status.History.Latest().Version != 1 || hr.Status.LastAttemptedReleaseAction != v2.ReleaseActionInstall {
		t.Errorf("after an uninstall by hand the release is installed again: %s", describe(hr))
	}
}

// TestAdoption: a release installed with plain Helm is taken over (upgraded to the declared
// values) by a HelmRelease of the same release name.
func TestAdoption(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	chrt := chartOf(t, "widgets")
	install := helmaction.NewInstall(helmConfig(t, ns))
	install.ReleaseName, install.Namespace = "adopted", ns
	if _, err := install.Run(chrt, map[string]interface{}{"message": "helm"}); err != nil {
		t.Fatal(err)
	}
	helmChartSource(t, ns, "widgets", chrt)
	newHR(t, ns, "adopted", "widgets", withValues("message: flux"))
	hr := waitReady(t, ns, "adopted", 60*time.Second)
	if rls := latestRelease(t, ns, "adopted"); rls.Version != 2 || rls.Config["message"] != "flux" {
		t.Fatalf("adopted release: v%d %v", rls.Version, rls.Config)
	}
	if c := condition(hr, v2.ReleasedCondition); c.Reason != v2.UpgradeSucceededReason {
		t.Errorf("Released = %+v", c)
	}
}

// TestUnlock: a release left pending by a controller killed in the middle of an upgrade is
// unlocked (marked failed, event PendingRelease) and released again, never stuck on
// "another operation is in progress"; as upstream, the unlock spends no retry.
func TestUnlock(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", func(hr *v2.HelmRelease) { hr.Spec.Upgrade.Remediation = &v2.UpgradeRemediation{Retries: 1} })
	waitReady(t, ns, "app", 60*time.Second)

	// What a killed controller leaves behind: a pending-upgrade record.
	cfg := helmConfig(t, ns)
	pending := *latestRelease(t, ns, "app")
	info := *pending.Info
	info.Status = helmrelease.StatusPendingUpgrade
	pending.Info, pending.Version = &info, 2
	if err := cfg.Releases.Create(&pending); err != nil {
		t.Fatal(err)
	}
	reconcileAndWait(t, ns, "app")
	hr := getHR(t, ns, "app")
	if hr.Status.UpgradeFailures != 0 {
		t.Errorf("unlock spent a retry: %s", describe(hr))
	}
	ev := waitEvent(t, ns, "app", "PendingRelease")
	assertContains(t, "PendingRelease event", ev.Message, "Unlocked Helm release "+ns+"/app.v2", "pending-upgrade")
	if rls := latestRelease(t, ns, "app"); rls.Version != 3 || rls.Info.Status != helmrelease.StatusDeployed {
		t.Errorf("after the unlock: v%d %s", rls.Version, rls.Info.Status)
	}
}

// reconcileAndWait requests a reconcile and waits until it ends Ready.
func reconcileAndWait(t *testing.T, ns, name string) {
	t.Helper()
	token := annotate(t, ns, name)
	waitFor(t, ns, name, 60*time.Second, "reconciled", func(hr *v2.HelmRelease) bool {
		return hr.Status.LastHandledReconcileAt == token && isReady(hr)
	})
}

// TestDriftCorrection: with driftDetection enabled, a `kubectl edit` of a release object and
// a deleted object are corrected; with warn they are only reported.
func TestDriftCorrection(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	drift := func(mode v2.DriftDetectionMode) hrOpt {
		return func(hr *v2.HelmRelease) { hr.Spec.DriftDetection = &v2.DriftDetection{Mode: mode} }
	}
	newHR(t, ns, "fixed", "widgets", drift(v2.DriftDetectionEnabled), withValues("replicas: 1"))
	newHR(t, ns, "warned", "widgets", drift(v2.DriftDetectionWarn), withValues("replicas: 1"))
	waitReady(t, ns, "fixed", 60*time.Second)
	waitReady(t, ns, "warned", 60*time.Second)

	edit := func(name string) {
		t.Helper()
		var d appsv1.Deployment
		if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			t.Fatal(err)
		}
		three := int32(3)
		d.Spec.Replicas = &three
		if err := k8s().Update(testCtx(t), &d, client.FieldOwner("kubectl-edit")); err != nil {
			t.Fatal(err)
		}
		cm := &corev1.ConfigMap{}
		cm.Namespace, cm.Name = ns, name+"-config"
		if err := k8s().Delete(testCtx(t), cm); err != nil {
			t.Fatal(err)
		}
	}
	replicas := func(name string) int32 {
		var d appsv1.Deployment
		if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			t.Fatal(err)
		}
		return *d.Spec.Replicas
	}
	edit("fixed")
	edit("warned")
	reconcileAndWait(t, ns, "fixed")
	reconcileAndWait(t, ns, "warned")
	if r := replicas("fixed"); r != 1 {
		t.Errorf("drift not corrected: replicas = %d", r)
	}
	if getObj(t, "v1", "ConfigMap", ns, "fixed-config") == nil {
		t.Error("deleted ConfigMap not recreated")
	}
	ev := waitEvent(t, ns, "fixed", "DriftCorrected")
	assertContains(t, "DriftCorrected", ev.Message, fmt.Sprintf("ConfigMap/%s/fixed-config created", ns), fmt.Sprintf("Deployment/%s/fixed configured", ns))
	waitEvent(t, ns, "fixed", "DriftDetected")
	if r := replicas("warned"); r != 3 {
		t.Errorf("warn mode changed the cluster: replicas = %d", r)
	}
	ev = waitEvent(t, ns, "warned", "DriftDetected")
	assertContains(t, "DriftDetected", ev.Message, fmt.Sprintf("Deployment/%s/warned changed", ns))
	if hr := getHR(t, ns, "fixed"); hr.Status.History.Latest().Version != 1 {
		t.Errorf("drift correction made a new release: %s", describe(hr))
	}
}
