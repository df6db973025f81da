package ssa

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/pkg/inventory"
)

func TestPrune(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	owner := map[string]string{"kustomize.toolkit.fluxcd.io/name": "app", "kustomize.toolkit.fluxcd.io/namespace": ns}
	exclusions := map[string]string{
		"kustomize.toolkit.fluxcd.io/prune":     "disabled",
		"kustomize.toolkit.fluxcd.io/reconcile": "disabled",
		"kustomize.toolkit.fluxcd.io/ssa":       "Ignore",
	}
	objs := objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: owned
  namespace: NS
  labels: {kustomize.toolkit.fluxcd.io/name: app, kustomize.toolkit.fluxcd.io/namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: prune-disabled
  namespace: NS
  labels: {kustomize.toolkit.fluxcd.io/name: app, kustomize.toolkit.fluxcd.io/namespace: NS}
  annotations: {kustomize.toolkit.fluxcd.io/prune: Disabled}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa-ignore-label
  namespace: NS
  labels: {kustomize.toolkit.fluxcd.io/name: app, kustomize.toolkit.fluxcd.io/namespace: NS, kustomize.toolkit.fluxcd.io/ssa: ignore}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other-owner
  namespace: NS
  labels: {kustomize.toolkit.fluxcd.io/name: other, kustomize.toolkit.fluxcd.io/namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: half-owned
  namespace: NS
  labels: {kustomize.toolkit.fluxcd.io/name: app}
---
apiVersion: v1
kind: Secret
metadata:
  name: owned
  namespace: NS
  labels: {kustomize.toolkit.fluxcd.io/name: app, kustomize.toolkit.fluxcd.io/namespace: NS}
`)
	m := NewManager(cluster(t).Client, testOwner)
	if _, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := []inventory.ObjMetadata{
		{Namespace: ns, Name: "owned", Kind: "ConfigMap"},
		{Namespace: ns, Name: "prune-disabled", Kind: "ConfigMap"},
		{Namespace: ns, Name: "ssa-ignore-label", Kind: "ConfigMap"},
		{Namespace: ns, Name: "other-owner", Kind: "ConfigMap"},
		{Namespace: ns, Name: "half-owned", Kind: "ConfigMap"},
		{Namespace: ns, Name: "gone", Kind: "ConfigMap"},
		{Namespace: ns, Name: "x", Group: "nope.gotk.dev", Kind: "Unserved"},
	}
	c, cnt := countingClient(t, "")
	pm := NewManager(c, testOwner)
	warm(t, c, cnt, objs)
	cs, notDeleted, err := pm.Prune(ctx, stale, DeleteOptions{OwnerLabels: owner, Exclusions: exclusions})
	if err != nil || len(notDeleted) != 0 {
		t.Fatalf("Prune: %v, not deleted %v", err, notDeleted)
	}
	assertActions(t, cs,
		"ConfigMap/"+ns+"/owned deleted",
		"ConfigMap/"+ns+"/prune-disabled skipped",
		"ConfigMap/"+ns+"/ssa-ignore-label skipped",
		"ConfigMap/"+ns+"/other-owner skipped",
		"ConfigMap/"+ns+"/half-owned skipped")
	reqs := cnt.take()
	gets, deletes := 0, 0
	for _, r := range reqs {
		switch {
		case strings.HasPrefix(r, "GET /api/v1/namespaces/"+ns+"/configmaps/"):
			gets++
		case r == "DELETE /api/v1/namespaces/"+ns+"/configmaps/owned":
			deletes++
		case r == "GET /api" || r == "GET /apis":
			// discovery of the unserved group
		default:
			t.Errorf("unexpected request %s", r)
		}
	}
	if gets != 6 || deletes != 1 {
		t.Errorf("requests:\n%s\nwant 6 gets and 1 delete", strings.Join(reqs, "\n"))
	}

	remaining, err := m.Remaining(ctx, stale)
	if err != nil {
		t.Fatal(err)
	}
	if want := stale[1:5]; !reflect.DeepEqual(remaining, want) {
		t.Errorf("Remaining = %v, want %v", remaining, want)
	}

	// Without owner labels and exclusions, everything that exists is deleted.
	cs, notDeleted, err = m.Prune(ctx, stale, DeleteOptions{})
	if err != nil || len(notDeleted) != 0 {
		t.Fatalf("Prune: %v, not deleted %v", err, notDeleted)
	}
	if len(cs.Entries) != 4 || len(cs.Changes().Entries) != 4 {
		t.Errorf("change set:\n%s\nwant 4 deleted", cs)
	}
	if remaining, err := m.Remaining(ctx, stale); err != nil || len(remaining) != 0 {
		// Background deletion of a ConfigMap is immediate: no finalizers.
		t.Errorf("Remaining = %v, %v; want none", remaining, err)
	}
}

// TestPruneRefused: a deletion the API server refuses (RBAC) leaves the object in the
// not-deleted list, for the caller to keep it in the inventory, and the error names it.
func TestPruneRefused(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	sa := grantServiceAccount(t, ns, []string{"configmaps", "secrets"}, []string{"get", "list", "patch", "create"})
	objs := objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: NS}
`)
	if _, err := NewManager(cluster(t).Client, testOwner).ApplyAllStaged(ctx, objs, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	c, _ := countingClient(t, sa)
	stale := []inventory.ObjMetadata{
		{Namespace: ns, Name: "kept", Kind: "ConfigMap"},
		{Namespace: ns, Name: "gone", Kind: "Secret"},
		{Namespace: ns, Name: "unreadable", Group: "apps", Kind: "Deployment"},
	}
	cs, notDeleted, err := NewManager(c, testOwner).Prune(ctx, stale, DeleteOptions{})
	if err == nil {
		t.Fatal("want an error")
	}
	if want := []inventory.ObjMetadata{stale[0], stale[2]}; !reflect.DeepEqual(notDeleted, want) {
		t.Errorf("not deleted = %v, want %v", notDeleted, want)
	}
	msg := err.Error()
	if !strings.Contains(msg, "ConfigMap/"+ns+"/kept: ") || !strings.Contains(msg, "Deployment/"+ns+"/unreadable: ") || !strings.Contains(msg, "forbidden") {
		t.Errorf("err = %q, want both objects named with the API server's refusal", msg)
	}
	assertActions(t, cs)
	live(t, configMapGVK, ns, "kept")
}

func TestDiff(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	manifest := `
apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: NS}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: changed, namespace: NS}
data: {k: v}
`
	m := NewManager(cluster(t).Client, testOwner)
	if _, err := m.ApplyAllStaged(ctx, objects(t, ns, manifest), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	objs := objects(t, ns, strings.Replace(manifest, "{name: changed, namespace: NS}\ndata: {k: v}", "{name: changed, namespace: NS}\ndata: {k: w}", 1)+`
---
apiVersion: v1
kind: ConfigMap
metadata: {name: new, namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ignored
  namespace: NS
  annotations: {kustomize.toolkit.fluxcd.io/ssa: Ignore}
---
apiVersion: later.gotk.dev/v1
kind: NotYetDefined
metadata: {name: cr, namespace: NS}
`)
	before := make([]*unstructured.Unstructured, len(objs))
	for i, u := range objs {
		before[i] = u.DeepCopy()
	}
	entries, err := m.Diff(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs := &ChangeSet{}
	for _, e := range entries {
		cs.add(e.ChangeSetEntry)
	}
	assertActions(t, cs,
		"ConfigMap/"+ns+"/same unchanged",
		"ConfigMap/"+ns+"/changed configured",
		"ConfigMap/"+ns+"/new created",
		"ConfigMap/"+ns+"/ignored skipped",
		"NotYetDefined/"+ns+"/cr created")
	if entries[1].Live.Object["data"].(map[string]any)["k"] != "v" || entries[1].Merged.Object["data"].(map[string]any)["k"] != "w" {
		t.Errorf("configured: live %v merged %v", entries[1].Live.Object["data"], entries[1].Merged.Object["data"])
	}
	if entries[2].Live != nil || entries[2].Merged == nil || entries[0].Live == nil {
		t.Error("created: want no live object and a merged one")
	}
	if !reflect.DeepEqual(objs, before) {
		t.Error("Diff modified its input")
	}
	// Nothing was written.
	if got := live(t, configMapGVK, ns, "changed").Object["data"].(map[string]any)["k"]; got != "v" {
		t.Errorf("dry-run changed the cluster: k = %v", got)
	}
}
