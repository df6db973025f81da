package journeys_test

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"gotk.dev/e2e/framework"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const pruneNS = "prune"

// TestChangeAndPrune is journey 3: one commit changes an object, removes another and adds a
// third. The change is applied, the removed object is deleted, one removed from Git but
// annotated kustomize.toolkit.fluxcd.io/prune: disabled stays in the cluster, and the
// inventory lists exactly what the new revision holds.
func TestChangeAndPrune(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 2*time.Minute)
	createNamespace(t, ctx, pruneNS)
	repo, err := env.CreateGitRepo("prune")
	if err != nil {
		t.Fatal(err)
	}
	keep := `apiVersion: v1
kind: ConfigMap
metadata:
  name: keep
  namespace: prune
  annotations:
    kustomize.toolkit.fluxcd.io/prune: disabled
data:
  note: "survives its removal from Git"
`
	service := `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: prune
spec:
  ports:
    - port: 8080
`
	first, err := repo.Commit(map[string]string{
		"app/a.yaml":    configMap(pruneNS, "a", map[string]string{"version": "1"}),
		"app/b.yaml":    configMap(pruneNS, "b", map[string]string{"version": "1"}),
		"app/keep.yaml": keep,
		"app/svc.yaml":  service,
	}, "first")
	if err != nil {
		t.Fatal(err)
	}
	src := gitRepository(pruneNS, "prune", repo.HTTPURL)
	apply(t, ctx, src)
	ks := kustomization(pruneNS, "prune", sourcev1.GitRepositoryKind, "prune", "./app")
	apply(t, ctx, ks)
	waitApplied(t, ctx, ks, repo.Revision(first), time.Minute)
	want := []string{
		inventoryID(pruneNS, "a", "", "ConfigMap"),
		inventoryID(pruneNS, "api", "", "Service"),
		inventoryID(pruneNS, "b", "", "ConfigMap"),
		inventoryID(pruneNS, "keep", "", "ConfigMap"),
	}
	if got := inventoryIDs(ks); !slices.Equal(got, want) {
		t.Fatalf("inventory of the first revision: %s", diffSets(want, got))
	}

	// One commit: a changes, b and keep go, c comes.
	dir := t.TempDir()
	if err := framework.WriteTree(dir, map[string]string{
		"a.yaml":   configMap(pruneNS, "a", map[string]string{"version": "2"}),
		"c.yaml":   configMap(pruneNS, "c", map[string]string{"version": "2"}),
		"svc.yaml": service,
	}); err != nil {
		t.Fatal(err)
	}
	second, err := repo.CommitDir(dir, "app", "change a, remove b and keep, add c")
	if err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, ctx, pruneNS, "gitrepository/prune")
	waitApplied(t, ctx, ks, repo.Revision(second), time.Minute)

	if cm, ok := getConfigMap(t, ctx, pruneNS, "a"); !ok || cm.Data["version"] != "2" {
		t.Errorf("ConfigMap a: %v, want version=2", cm)
	}
	if _, ok := getConfigMap(t, ctx, pruneNS, "c"); !ok {
		t.Error("ConfigMap c, added by the commit, was not created")
	}
	if gone, err := notFound(ctx, namespaced(&corev1.ConfigMap{}, pruneNS, "b")); err != nil || !gone {
		t.Errorf("ConfigMap b, removed by the commit, still exists (err %v)", err)
	}
	if _, ok := getConfigMap(t, ctx, pruneNS, "keep"); !ok {
		t.Error("ConfigMap keep (kustomize.toolkit.fluxcd.io/prune: disabled) was pruned")
	}
	want = []string{
		inventoryID(pruneNS, "a", "", "ConfigMap"),
		inventoryID(pruneNS, "api", "", "Service"),
		inventoryID(pruneNS, "c", "", "ConfigMap"),
	}
	if got := inventoryIDs(ks); !slices.Equal(got, want) {
		t.Errorf("inventory of the second revision: %s", diffSets(want, got))
	}
}
