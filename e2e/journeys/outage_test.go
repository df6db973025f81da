package journeys_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "gotk.dev/source-controller/api/v1"
)

const outageNS = "outage"

// TestGitServerOutage is journey 5: the Git server goes down. The GitRepository reports
// FetchFailed and keeps its last artifact; the Kustomization goes on correcting drift from
// that artifact; a commit made during the outage flows to the cluster once the server is
// back.
//
// It stops the Git server every journey shares, so it does not run in parallel (the
// parallel journeys start after it).
func TestGitServerOutage(t *testing.T) {
	env, ctx := journey(t, 2*time.Minute)
	createNamespace(t, ctx, outageNS)
	repo, err := env.CreateGitRepo("outage")
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.Commit(map[string]string{
		"config/state.yaml": configMap(outageNS, "state", map[string]string{"version": "1"}),
		"config/guard.yaml": configMap(outageNS, "guard", map[string]string{"role": "restored during the outage"}),
	}, "v1")
	if err != nil {
		t.Fatal(err)
	}
	src := gitRepository(outageNS, "outage", repo.HTTPURL)
	apply(t, ctx, src)
	ks := kustomization(outageNS, "outage", sourcev1.GitRepositoryKind, "outage", "./config")
	apply(t, ctx, ks)
	waitApplied(t, ctx, ks, repo.Revision(first), time.Minute)

	if err := env.Git.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Git.Restart() }) // never leave the shared server down
	down := time.Now()

	token := requestReconcile(t, ctx, outageNS, "gitrepository/outage")
	waitFor(t, ctx, src, 30*time.Second, "GitRepository outage to report FetchFailed", func() (bool, string) {
		if src.Status.LastHandledReconcileAt != token {
			return false, "lastHandledReconcileAt " + src.Status.LastHandledReconcileAt
		}
		ff, ready := condition(src, sourcev1.FetchFailedCondition), condition(src, "Ready")
		if ff == nil || ff.Status != metav1.ConditionTrue {
			return false, "FetchFailed is not True"
		}
		if ready == nil || ready.Status != metav1.ConditionFalse {
			return false, "Ready is not False"
		}
		return true, ""
	})
	t.Logf("FetchFailed %s after the server stopped: %s", time.Since(down).Round(time.Millisecond), condition(src, sourcev1.FetchFailedCondition).Message)
	if !strings.Contains(condition(src, sourcev1.FetchFailedCondition).Message, env.Git.Addr()) {
		t.Errorf("FetchFailed message does not name the server %s: %s", env.Git.Addr(), condition(src, sourcev1.FetchFailedCondition).Message)
	}
	if a := src.Status.Artifact; a == nil || a.Revision != repo.Revision(first) {
		t.Fatalf("GitRepository lost its artifact during the outage: %+v", a)
	}

	// Drift during the outage is corrected from the stored artifact.
	kubectl(t, ctx, "-n", outageNS, "delete", "configmap", "guard")
	kubectl(t, ctx, "-n", outageNS, "patch", "configmap", "state", "--type=merge", "-p", `{"data":{"version":"tampered"}}`)
	ksToken := requestReconcile(t, ctx, outageNS, "ks/outage")
	waitHandled(t, ctx, ks, ksToken, 30*time.Second)
	if _, ok := getConfigMap(t, ctx, outageNS, "guard"); !ok {
		t.Error("ConfigMap guard, deleted during the outage, was not restored")
	}
	if cm, _ := getConfigMap(t, ctx, outageNS, "state"); cm == nil || cm.Data["version"] != "1" {
		t.Errorf("ConfigMap state edited during the outage: %v, want version=1 restored", cm)
	}
	if ks.Status.LastAppliedRevision != repo.Revision(first) {
		t.Errorf("lastAppliedRevision %s during the outage, want %s", ks.Status.LastAppliedRevision, repo.Revision(first))
	}

	// A commit pushed meanwhile (the repository lives on the server's disk) flows once the
	// server is back.
	second, err := repo.Commit(map[string]string{"config/state.yaml": configMap(outageNS, "state", map[string]string{"version": "2"})}, "v2")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Git.Restart(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	requestReconcile(t, ctx, outageNS, "gitrepository/outage")
	waitArtifact(t, ctx, src, repo.Revision(second), 30*time.Second)
	if ff := condition(src, sourcev1.FetchFailedCondition); ff != nil {
		t.Errorf("FetchFailed still set after a successful fetch: %+v", ff)
	}
	waitApplied(t, ctx, ks, repo.Revision(second), 30*time.Second)
	t.Logf("new revision applied %s after the server came back", time.Since(back).Round(time.Millisecond))
	if cm, _ := getConfigMap(t, ctx, outageNS, "state"); cm == nil || cm.Data["version"] != "2" {
		t.Errorf("ConfigMap state after the outage: %v, want version=2", cm)
	}
}
