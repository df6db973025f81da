package ssa

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// TestUnchangedObjectIsReadNotApplied: an object applied with the same manifest and written
// by nobody since is read instead of applied; any write by someone else, a deletion, another
// manifest or an hour's time brings the apply back, so in-cluster edits are still reverted
// in the reconcile that follows them and admission still sees the object.
func TestUnchangedObjectIsReadNotApplied(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	c, cnt := countingClient(t, "")
	m := NewManager(c, testOwner)
	const cm = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: NS
data:
  color: blue
`
	path := "/api/v1/namespaces/" + ns + "/configmaps/settings"
	apply := func(manifest string) (*ChangeSet, *unstructured.Unstructured) {
		t.Helper()
		objs := objects(t, ns, manifest)
		cs, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cs, objs[0]
	}
	warm(t, c, cnt, objects(t, ns, cm))
	created := "ConfigMap/" + ns + "/settings created"
	unchanged := "ConfigMap/" + ns + "/settings unchanged"

	cs, _ := apply(cm)
	assertActions(t, cs, created)
	assertRequests(t, cnt, "PATCH "+path)

	cs, u := apply(cm)
	assertActions(t, cs, unchanged)
	assertRequests(t, cnt, "GET "+path)
	if got, _, _ := unstructured.NestedString(u.Object, "data", "color"); got != "blue" || u.GetUID() == "" {
		t.Errorf("the object handed back is not the live one: color %q, uid %q", got, u.GetUID())
	}

	// Admission still sees the object at least every applyAtLeastEvery.
	id := inventory.ObjMetadata{Namespace: ns, Name: "settings", Kind: "ConfigMap"}
	a, _ := m.memory.get(id)
	a.at = a.at.Add(-applyAtLeastEvery - time.Minute)
	m.memory.put(id, a)
	cs, _ = apply(cm)
	assertActions(t, cs, unchanged)
	assertRequests(t, cnt, "PATCH "+path)
	cs, _ = apply(cm)
	assertActions(t, cs, unchanged)
	assertRequests(t, cnt, "GET "+path)

	// An in-cluster edit: read, found written, applied and taken over, reverted.
	edited := live(t, configMapGVK, ns, "settings")
	if err := cluster(t).Client.Patch(ctx, edited, client.RawPatch(types.MergePatchType, []byte(`{"data":{"color":"red","extra":"x"}}`)),
		client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	cs, _ = apply(cm)
	assertActions(t, cs, "ConfigMap/"+ns+"/settings configured")
	got := cnt.take()
	if len(got) < 2 || got[0] != "GET "+path || got[1] != "PATCH "+path {
		t.Errorf("requests after an edit = %v, want a read, then the apply (and the take-over)", got)
	}
	if data := live(t, configMapGVK, ns, "settings").Object["data"].(map[string]any); data["color"] != "blue" || data["extra"] != nil {
		t.Errorf("the edit was not reverted: %v", data)
	}

	// Deleted behind our back: the read finds nothing, the apply creates it again.
	apply(cm) // quiet again after the take-over's second apply
	cnt.take()
	if err := cluster(t).Client.Delete(ctx, live(t, configMapGVK, ns, "settings")); err != nil {
		t.Fatal(err)
	}
	cs, _ = apply(cm)
	assertActions(t, cs, created)
	assertRequests(t, cnt, "GET "+path, "PATCH "+path)

	// Another manifest is applied without reading first.
	cs, _ = apply(strings.Replace(cm, "blue", "green", 1))
	assertActions(t, cs, "ConfigMap/"+ns+"/settings configured")
	assertRequests(t, cnt, "PATCH "+path)
}
