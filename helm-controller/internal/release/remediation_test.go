package release

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/helm-controller/internal/testchart"
	"gotk.dev/helmrender/values"
)

var (
	good      = map[string]interface{}{"size": 1}
	rejected  = map[string]interface{}{"size": 1, "failApply": true}
	unrender  = map[string]interface{}{"size": 1, "failRender": true}
	testFails = map[string]interface{}{"size": 1, "testPhase": "Failed"}
)

func installRetries(retries int) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) { o.Spec.Install.Remediation = &v2.InstallRemediation{Retries: retries} }
}

func upgradeRetries(retries int, strategy v2.RemediationStrategy) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) {
		o.Spec.Upgrade.Remediation = &v2.UpgradeRemediation{Retries: retries, Strategy: &strategy}
	}
}

// A failed install is uninstalled and retried until the retries are used up; a change of
// values starts over.
func TestInstallRemediation(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "install-fails", installRetries(1))
	chrt := testchart.Chart(t, "widgets")

	res := f.expect(chrt, rejected, []Action{Install, UninstallRemediation}, nil)
	if !res.Requeue || f.obj.Status.InstallFailures != 1 {
		t.Fatalf("requeue=%v installFailures=%d", res.Requeue, f.obj.Status.InstallFailures)
	}
	if st, reason := f.condition(v2.RemediatedCondition); st != "True" || reason != v2.UninstallSucceededReason {
		t.Errorf("Remediated = %s/%s", st, reason)
	}
	f.expect(chrt, rejected, []Action{Install}, ErrRetriesExhausted)
	if f.obj.Status.InstallFailures != 2 || f.latest().Info.Status != release.StatusFailed {
		t.Fatalf("installFailures=%d, latest %s", f.obj.Status.InstallFailures, f.latest().Info.Status)
	}
	// Stalled: nothing runs until something changes.
	f.expect(chrt, rejected, nil, ErrRetriesExhausted)
	// Fixed values reset the counters; the failed release is upgraded.
	f.expect(chrt, good, []Action{Upgrade}, nil)
	if rls := f.latest(); rls.Info.Status != release.StatusDeployed {
		t.Fatalf("after fixing the values: %s", rls.Info.Status)
	}
}

// A failed upgrade is rolled back; once the retries are used up the last failure is still
// rolled back (remediateLastFailure defaults to true with retries) and the release stalls.
func TestUpgradeRollback(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "rollback", upgradeRetries(1, v2.RollbackRemediationStrategy))
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, good, []Action{Install}, nil)

	res := f.expect(chrt, rejected, []Action{Upgrade, RollbackRemediation}, nil)
	if !res.Requeue {
		t.Fatal("no requeue after remediation")
	}
	if rls := f.latest(); rls.Version != 3 || rls.Info.Status != release.StatusDeployed || rls.Config["failApply"] != nil {
		t.Fatalf("after rollback: v%d %s %v", rls.Version, rls.Info.Status, rls.Config)
	}
	if st, reason := f.condition(v2.RemediatedCondition); st != "True" || reason != v2.RollbackSucceededReason {
		t.Errorf("Remediated = %s/%s", st, reason)
	}
	f.expect(chrt, rejected, []Action{Upgrade, RollbackRemediation}, ErrRetriesExhausted)
	if rls := f.latest(); rls.Version != 5 || rls.Info.Status != release.StatusDeployed {
		t.Fatalf("last failure not remediated: v%d %s", rls.Version, rls.Info.Status)
	}
	f.expect(chrt, rejected, nil, ErrRetriesExhausted)
}

// With the uninstall strategy a failed upgrade is uninstalled and installed again.
func TestUpgradeUninstallRemediation(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "uninstall", upgradeRetries(1, v2.UninstallRemediationStrategy))
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, good, []Action{Install}, nil)
	f.expect(chrt, rejected, []Action{Upgrade, UninstallRemediation}, nil)
	if _, err := f.helm().Releases.Last("uninstall"); err == nil {
		t.Fatal("release still in storage after uninstall remediation")
	}
	f.expect(chrt, good, []Action{Install}, nil)
}

// Failed tests are remediated like failed releases: uninstall after an install, rollback
// after an upgrade; ignored test failures are not.
func TestTestFailureRemediation(t *testing.T) {
	needCluster(t)
	chrt := testchart.Chart(t, "widgets")
	t.Run("after install", func(t *testing.T) {
		f := newFixture(t, "test-install", enableTests(false), installRetries(1))
		f.expect(chrt, testFails, []Action{Install, Test, UninstallRemediation}, nil)
		if st, reason := f.condition(v2.TestSuccessCondition); st != "False" || reason != v2.TestFailedReason {
			t.Errorf("TestSuccess = %s/%s", st, reason)
		}
	})
	t.Run("after upgrade", func(t *testing.T) {
		f := newFixture(t, "test-upgrade", enableTests(false), upgradeRetries(1, v2.RollbackRemediationStrategy))
		f.expect(chrt, good, []Action{Install, Test}, nil)
		f.expect(chrt, testFails, []Action{Upgrade, Test, RollbackRemediation}, nil)
		if rls := f.latest(); rls.Config["testPhase"] != nil {
			t.Fatalf("not rolled back: %v", rls.Config)
		}
	})
	t.Run("ignored", func(t *testing.T) {
		f := newFixture(t, "test-ignored", enableTests(true), installRetries(1))
		f.expect(chrt, testFails, []Action{Install, Test}, nil)
		if hooks := f.obj.Status.History.Latest().GetTestHooks(); hooks["test-ignored-test"] == nil || hooks["test-ignored-test"].Phase != "Failed" {
			t.Fatalf("test hooks %+v", hooks)
		}
		f.expect(chrt, testFails, nil, nil)
	})
}

// A chart that does not render leaves nothing to remediate: the upgrade is retried, and
// the failure does not count against the retries.
func TestRenderFailureIsRetried(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "render", upgradeRetries(1, v2.RollbackRemediationStrategy))
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, good, []Action{Install}, nil)
	res, err := f.reconcile(chrt, unrender, false)
	if err == nil || !strings.Contains(err.Error(), "failRender is set") || !actionsAre(res.Actions, Upgrade) {
		t.Fatalf("actions %v err %v", res.Actions, err)
	}
	if f.obj.Status.UpgradeFailures != 0 || f.obj.Status.Failures != 1 {
		t.Fatalf("upgradeFailures=%d failures=%d", f.obj.Status.UpgradeFailures, f.obj.Status.Failures)
	}
	if rls := f.latest(); rls.Version != 1 || rls.Info.Status != release.StatusDeployed {
		t.Fatalf("release changed: v%d %s", rls.Version, rls.Info.Status)
	}
}

// RetryOnFailure retries a failed upgrade after the retry interval, without remediation.
func TestRetryOnFailure(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "retry", func(o *v2.HelmRelease) {
		o.Spec.Upgrade.Strategy = &v2.UpgradeStrategy{Name: v2.ActionStrategyRetryOnFailure, RetryInterval: &metav1.Duration{Duration: time.Minute}}
	})
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, good, []Action{Install}, nil)
	for i := 0; i < 2; i++ {
		res, err := f.reconcile(chrt, rejected, false)
		if err == nil || !actionsAre(res.Actions, Upgrade) || res.RetryAfter != time.Minute {
			t.Fatalf("attempt %d: actions %v retryAfter %s err %v", i, res.Actions, res.RetryAfter, err)
		}
	}
	if rls := f.latest(); rls.Info.Status != release.StatusFailed {
		t.Fatalf("failed upgrade was remediated: %s", rls.Info.Status)
	}
}

// A release left pending by a killed controller is unlocked and released again, never
// stuck on "another operation is in progress".
func TestUnlockPendingRelease(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "locked")
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, good, []Action{Install}, nil)

	// The killed controller's upgrade: a pending-upgrade record written by the storage.
	cfg := f.helm()
	pending := *f.latest()
	info := *pending.Info
	info.Status = release.StatusPendingUpgrade
	pending.Info, pending.Version = &info, 2
	if err := cfg.Releases.Create(&pending); err != nil {
		t.Fatal(err)
	}
	up := helmaction.NewUpgrade(cfg)
	up.Namespace = f.ns
	if _, err := up.Run("locked", chrt, good); err == nil || !strings.Contains(err.Error(), "another operation") {
		t.Fatalf("plain Helm on the locked release: %v", err)
	}

	res := f.expect(chrt, map[string]interface{}{"size": 2}, []Action{Unlock, Upgrade}, nil)
	// As upstream, the unlock is reported but spends no retry: the interrupted action was
	// never judged.
	if len(res.Events) == 0 || res.Events[0].Reason != "PendingRelease" ||
		!strings.Contains(res.Events[0].Message, "Unlocked Helm release "+f.ns+"/locked.v2 with chart widgets@1.0.0 in pending-upgrade state") {
		t.Fatalf("events %+v", res.Events)
	}
	if f.obj.Status.UpgradeFailures != 0 || f.obj.Status.Failures != 0 {
		t.Fatalf("unlock counted as a failure: upgradeFailures=%d failures=%d", f.obj.Status.UpgradeFailures, f.obj.Status.Failures)
	}
	rec2, err := cfg.Releases.Get("locked", 2)
	if err != nil || rec2.Info.Status != release.StatusFailed {
		t.Fatalf("v2 after unlock: %v %v", err, rec2)
	}
	if rls := f.latest(); rls.Version != 3 || rls.Info.Status != release.StatusDeployed {
		t.Fatalf("after unlock: v%d %s", rls.Version, rls.Info.Status)
	}
}

// Values come from the cluster through values.ClientGetter: a missing optional Secret is
// skipped.
func TestValuesFromCluster(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "valuesfrom")
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "values", Namespace: f.ns}, Data: map[string]string{"values.yaml": "message: from-configmap\nsize: 3\n"}}
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	f.obj.Spec.ValuesFrom = []meta.ValuesReference{
		{Kind: "ConfigMap", Name: "values"},
		{Kind: "Secret", Name: "absent", Optional: true},
	}
	vals, err := values.Compose(ctx, values.ClientGetter(env.Client, f.ns), f.ns, f.obj.Spec.ValuesFrom, map[string]interface{}{"size": 2})
	if err != nil {
		t.Fatal(err)
	}
	f.expect(testchart.Chart(t, "widgets"), vals, []Action{Install}, nil)
	got := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "valuesfrom-config"}, got); err != nil || got.Data["message"] != "from-configmap" {
		t.Fatalf("rendered ConfigMap: %v %v", err, got.Data)
	}
	if v := f.values(); v["size"] != float64(2) {
		t.Fatalf("inline values must win: %v", v)
	}
	f.obj.Spec.ValuesFrom[1].Optional = false
	if _, err := values.Compose(ctx, values.ClientGetter(env.Client, f.ns), f.ns, f.obj.Spec.ValuesFrom, nil); err == nil || !strings.Contains(err.Error(), "Secret '"+f.ns+"/absent': not found") {
		t.Fatalf("required missing Secret: %v", err)
	}
}

func actionsAre(got []Action, want ...Action) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// After a rollback, going back to the rolled-back-to configuration is in sync at once:
// the Remediated condition gives way to Released.
func TestRemediatedSettles(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "settle", upgradeRetries(1, v2.RollbackRemediationStrategy))
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, good, []Action{Install}, nil)
	f.expect(chrt, rejected, []Action{Upgrade, RollbackRemediation}, nil)
	f.expect(chrt, good, nil, nil)
	if st, _ := f.condition(v2.RemediatedCondition); st != "" {
		t.Errorf("Remediated still set: %s", st)
	}
	if st, reason := f.condition(v2.ReleasedCondition); st != "True" || reason != v2.UpgradeSucceededReason {
		t.Errorf("Released = %s/%s", st, reason)
	}
}

// A changed release name leaves the old release to be uninstalled before the new one is
// installed.
func TestReleaseNameChange(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "old")
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, good, []Action{Install}, nil)
	f.obj.Spec.ReleaseName = "new"
	if reason := TargetChanged(f.obj, "widgets"); !strings.Contains(reason, "release name changed") {
		t.Fatalf("TargetChanged = %q", reason)
	}
	cur := f.obj.Status.History.Latest()
	previous := kube.NewFactory(env.Config, cur.Namespace, f.obj.Status.StorageNamespace, kube.FactoryOptions{Persistent: true})
	if err := UninstallPrevious(context.Background(), previous, f.obj, f.runner.Options); err != nil {
		t.Fatal(err)
	}
	if _, err := f.helm().Releases.Last("old"); err == nil {
		t.Fatal("previous release still in storage")
	}
	f.expect(chrt, good, []Action{Install}, nil)
	if rls := f.latest(); rls.Name != "new" || rls.Version != 1 {
		t.Fatalf("new release %s v%d", rls.Name, rls.Version)
	}
}

// With uninstall.keepHistory the uninstalled records stay, and the next install replaces
// them (Helm refuses to reuse the name otherwise), continuing the version numbers.
func TestKeepHistoryReinstall(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "kept", upgradeRetries(1, v2.UninstallRemediationStrategy), func(o *v2.HelmRelease) {
		o.Spec.Uninstall = &v2.Uninstall{KeepHistory: true}
	})
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, good, []Action{Install}, nil)
	f.expect(chrt, rejected, []Action{Upgrade, UninstallRemediation}, nil)
	if rls := f.latest(); rls.Info.Status != release.StatusUninstalled {
		t.Fatalf("latest after uninstall with keepHistory: %s", rls.Info.Status)
	}
	f.expect(chrt, good, []Action{Install}, nil)
	if rls := f.latest(); rls.Version != 3 || rls.Info.Status != release.StatusDeployed {
		t.Fatalf("reinstalled release: v%d %s", rls.Version, rls.Info.Status)
	}
}

// spec.maxHistory bounds the records Helm keeps.
func TestMaxHistory(t *testing.T) {
	needCluster(t)
	two := 2
	f := newFixture(t, "bounded", func(o *v2.HelmRelease) { o.Spec.MaxHistory = &two })
	chrt := testchart.Chart(t, "widgets")
	for size := 1; size <= 4; size++ {
		want := []Action{Upgrade}
		if size == 1 {
			want = []Action{Install}
		}
		f.expect(chrt, map[string]interface{}{"size": size}, want, nil)
	}
	records, err := f.helm().Releases.History("bounded")
	if err != nil || len(records) != 2 {
		t.Fatalf("records kept: %d, %v", len(records), err)
	}
	if f.latest().Version != 4 {
		t.Fatalf("latest v%d", f.latest().Version)
	}
}
