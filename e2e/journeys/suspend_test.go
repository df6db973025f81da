package journeys_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const suspendNS = "suspend"

// TestSuspendResume is journey 4: a suspended Kustomization applies neither a new revision
// nor a reconcile request; resumed, it applies the new revision at once. Then, with the
// interval at 10 minutes, kubectl annotate reconcile.fluxcd.io/requestedAt makes it
// reconcile within seconds (recorded in status.lastHandledReconcileAt), undoing a deletion.
func TestSuspendResume(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 2*time.Minute)
	kc, err := env.Controller("kustomize-controller")
	if err != nil {
		t.Fatal(err)
	}
	createNamespace(t, ctx, suspendNS)
	repo, err := env.CreateGitRepo("suspend")
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.Commit(map[string]string{"config/settings.yaml": configMap(suspendNS, "settings", map[string]string{"version": "1"})}, "v1")
	if err != nil {
		t.Fatal(err)
	}
	src := gitRepository(suspendNS, "suspend", repo.HTTPURL)
	apply(t, ctx, src)
	ks := kustomization(suspendNS, "suspend", sourcev1.GitRepositoryKind, "suspend", "./config")
	apply(t, ctx, ks)
	waitApplied(t, ctx, ks, repo.Revision(first), time.Minute)

	// Suspend the way `flux suspend` does (a patch of spec.suspend), and wait until the
	// controller has seen it: it exports gotk_suspend_status, like upstream Flux.
	kubectl(t, ctx, "-n", suspendNS, "patch", "ks/suspend", "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	waitSuspendMetric(t, ctx, kc, "1")

	second, err := repo.Commit(map[string]string{"config/settings.yaml": configMap(suspendNS, "settings", map[string]string{"version": "2"})}, "v2")
	if err != nil {
		t.Fatal(err)
	}
	srcToken := requestReconcile(t, ctx, suspendNS, "gitrepository/suspend")
	waitHandled(t, ctx, src, srcToken, 30*time.Second)
	waitArtifact(t, ctx, src, repo.Revision(second), 30*time.Second)
	ksToken := requestReconcile(t, ctx, suspendNS, "ks/suspend")

	// Nothing may happen while suspended: neither the new artifact nor the request.
	stable := func() (bool, string) {
		if cm, _ := getConfigMap(t, ctx, suspendNS, "settings"); cm == nil || cm.Data["version"] != "1" {
			return false, fmt.Sprintf("ConfigMap settings changed while suspended: %v", cm)
		}
		mustGet(t, ctx, ks)
		if ks.Status.LastAppliedRevision != repo.Revision(first) {
			return false, "lastAppliedRevision changed while suspended: " + ks.Status.LastAppliedRevision
		}
		if ks.Status.LastHandledReconcileAt == ksToken {
			return false, "the reconcile request was handled while suspended"
		}
		return true, ""
	}
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if ok, why := stable(); !ok {
			t.Fatal(why)
		}
	}

	kubectl(t, ctx, "-n", suspendNS, "patch", "ks/suspend", "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	resumed := time.Now()
	waitApplied(t, ctx, ks, repo.Revision(second), 30*time.Second)
	t.Logf("resumed Kustomization applied the pending revision in %s", time.Since(resumed).Round(time.Millisecond))
	if cm, _ := getConfigMap(t, ctx, suspendNS, "settings"); cm == nil || cm.Data["version"] != "2" {
		t.Errorf("ConfigMap settings after resume: %v, want version=2", cm)
	}
	waitSuspendMetric(t, ctx, kc, "0")

	// A reconcile request is handled at once, far from the 10m interval.
	before := ks.Status.History
	kubectl(t, ctx, "-n", suspendNS, "delete", "configmap", "settings")
	asked := time.Now()
	token := requestReconcile(t, ctx, suspendNS, "ks/suspend")
	waitHandled(t, ctx, ks, token, 30*time.Second)
	took := time.Since(asked)
	t.Logf("reconcile request %s handled after %s (interval %s)", token, took.Round(time.Millisecond), ks.Spec.Interval.Duration)
	if took > ks.Spec.Interval.Duration/20 {
		t.Errorf("the reconcile request took %s, not well before the %s interval", took, ks.Spec.Interval.Duration)
	}
	if cm, ok := getConfigMap(t, ctx, suspendNS, "settings"); !ok || cm.Data["version"] != "2" {
		t.Errorf("ConfigMap settings after the requested reconcile: %v, want it recreated with version=2", cm)
	}
	// The objects are those of the revision applied before, so the same history snapshot
	// counts one more reconciliation.
	if b, a := before.Latest(), ks.Status.History.Latest(); b == nil || a == nil || a.Digest != b.Digest ||
		a.TotalReconciliations <= b.TotalReconciliations {
		t.Errorf("status.history did not record the requested reconcile: before %+v, after %+v", b, a)
	}
}

// waitSuspendMetric waits until kustomize-controller exports
// gotk_suspend_status{kind="Kustomization",name="suspend",namespace="suspend"} == value.
func waitSuspendMetric(t *testing.T, ctx context.Context, kc *framework.Process, value string) {
	t.Helper()
	labels := map[string]string{"kind": kustomizev1.KustomizationKind, "name": "suspend", "namespace": suspendNS}
	err := framework.Poll(ctx, 30*time.Second, "gotk_suspend_status "+value, func(ctx context.Context) (bool, error, error) {
		got, ok, err := metricValue(ctx, kc, "gotk_suspend_status", labels)
		if err != nil {
			return false, err, nil
		}
		if !ok {
			return false, fmt.Errorf("no gotk_suspend_status sample for %v", labels), nil
		}
		return got == value, fmt.Errorf("gotk_suspend_status %s", got), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
