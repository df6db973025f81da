package ssa

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// TestApplyCRDAndCustomResource applies a custom resource listed before its definition, in
// one call: the definition goes first and is waited for.
func TestApplyCRDAndCustomResource(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	group := ns + ".test.gotk.dev" // a group nobody served before
	manifests := strings.ReplaceAll(`
apiVersion: GROUP/v1
kind: Widget
metadata:
  name: w1
  namespace: NS
spec:
  size: 3
`, "GROUP", group) + "---" + widgetCRD(group, "")
	crd := schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
	t.Cleanup(func() {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(crd)
		u.SetName("widgets." + group)
		_ = cluster(t).Client.Delete(context.Background(), u)
	})

	c, cnt := countingClient(t, "")
	m := NewManager(c, testOwner)
	objs := objects(t, ns, manifests)
	cs, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{WaitCRDs: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The change set keeps the input order.
	assertActions(t, cs, "Widget/"+ns+"/w1 created", "CustomResourceDefinition/widgets."+group+" created")
	if objs[0].GetUID() == "" {
		t.Error("custom resource not updated to the API server's response")
	}
	// Two applies, the definition's first; the polls of the definition and of discovery in
	// between are the only other requests.
	crdPatch, crPatch, patches := -1, -1, 0
	reqs := cnt.take()
	for i, r := range reqs {
		switch {
		case r == "PATCH /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets."+group:
			crdPatch = i
		case r == "PATCH /apis/"+group+"/v1/namespaces/"+ns+"/widgets/w1":
			crPatch = i
		case strings.HasPrefix(r, "GET "):
		default:
			t.Errorf("unexpected request %s", r)
		}
		if strings.HasPrefix(r, "PATCH ") {
			patches++
		}
	}
	if crdPatch < 0 || crPatch < crdPatch || patches != 2 {
		t.Errorf("requests:\n%s\nwant the definition applied, then the custom resource", strings.Join(reqs, "\n"))
	}

	// Again: the definition is established, nothing is waited for or read. (In the same
	// second, the status update of the definition would make it look configured.)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	warm(t, c, cnt, objs)
	cs, err = m.ApplyAllStaged(ctx, objects(t, ns, manifests), ApplyOptions{PreviousInventory: inventory.New(objs)})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, "Widget/"+ns+"/w1 unchanged", "CustomResourceDefinition/widgets."+group+" unchanged")
	assertRequests(t, cnt,
		"PATCH /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets."+group,
		"PATCH /apis/"+group+"/v1/namespaces/"+ns+"/widgets/w1")
}

// TestApplyNamespaceFirst applies objects listed before their namespace.
func TestApplyNamespaceFirst(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t) + "-new"
	objs := objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: NS-reader}
rules: []
---
apiVersion: v1
kind: Namespace
metadata: {name: NS}
`)
	t.Cleanup(func() {
		for _, u := range objs[1:] {
			_ = cluster(t).Client.Delete(context.Background(), u)
		}
	})
	cs, err := NewManager(cluster(t).Client, testOwner).ApplyAllStaged(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, "ConfigMap/"+ns+"/a created", "ClusterRole/"+ns+"-reader created", "Namespace/"+ns+" created")
}

func TestApplyErrors(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	m := NewManager(cluster(t).Client, testOwner)

	t.Run("namespace required", func(t *testing.T) {
		_, err := m.ApplyAllStaged(ctx, objects(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nons}\n"), ApplyOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), "ConfigMap/nons: namespace not set") {
			t.Fatalf("err = %v, want it to name ConfigMap/nons and the missing namespace", err)
		}
	})

	t.Run("cluster-scoped object with a namespace", func(t *testing.T) {
		objs := objects(t, ns, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: NS-scoped, namespace: NS}\nrules: []\n")
		t.Cleanup(func() { _ = cluster(t).Client.Delete(context.Background(), objs[0]) })
		cs, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertActions(t, cs, "ClusterRole/"+ns+"-scoped created")
		if got := inventory.New(objs).Entries[0].ID; got != "_"+ns+"-scoped_rbac.authorization.k8s.io_ClusterRole" {
			t.Errorf("inventory id = %q", got)
		}
	})

	t.Run("unknown kind", func(t *testing.T) {
		_, err := m.ApplyAllStaged(ctx, objects(t, ns, "apiVersion: nope.gotk.dev/v1\nkind: Nope\nmetadata: {name: nope, namespace: NS}\n"), ApplyOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), "Nope/"+ns+"/nope: ") || !strings.Contains(err.Error(), "no matches for kind") {
			t.Fatalf("err = %v, want it to name Nope/%s/n", err, ns)
		}
	})

	t.Run("all failed objects of the stage, later stages not applied", func(t *testing.T) {
		objs := objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: bad1, namespace: NS}
data: {k: 1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: good, namespace: NS}
---
apiVersion: v1
kind: Service
metadata: {name: bad2, namespace: NS}
spec: {ports: [{port: 99999}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: "Not_Valid"}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: NS-never}
provisioner: example.com/never
`)
		cs, err := m.ApplyAllStaged(ctx, objs[2:], ApplyOptions{})
		if err == nil || !strings.Contains(err.Error(), "Namespace/Not_Valid: ") {
			t.Fatalf("err = %v, want Namespace/Not_Valid named", err)
		}
		assertActions(t, cs)
		if strings.Contains(err.Error(), "StorageClass") {
			t.Errorf("later stage applied: %v", err)
		}

		cs, err = m.ApplyAllStaged(ctx, objs[:3], ApplyOptions{})
		if err == nil {
			t.Fatal("want an error")
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "ConfigMap/"+ns+"/bad1: ") || !strings.Contains(msg, "\nService/"+ns+"/bad2: ") {
			t.Errorf("err = %q, want both failed objects, in input order", msg)
		}
		failed := FailedObjects(err)
		if len(failed) != 2 || failed[0].Name != "bad1" || failed[1].Name != "bad2" {
			t.Errorf("FailedObjects = %v", failed)
		}
		var oe *ObjectError
		if !errors.As(err, &oe) {
			t.Error("errors.As(*ObjectError) = false")
		}
		// The good object of the same stage was applied.
		assertActions(t, cs, "ConfigMap/"+ns+"/good created")
	})

	t.Run("invalid ignore rule", func(t *testing.T) {
		_, err := m.ApplyAllStaged(ctx, nil, ApplyOptions{IgnoreRules: []IgnoreRule{{Paths: []string{"spec/replicas"}}}})
		if err == nil || !strings.Contains(err.Error(), `"spec/replicas"`) {
			t.Fatalf("err = %v, want the invalid pointer named", err)
		}
	})
}

// TestApplyImpersonated applies through a service account that may only touch ConfigMaps:
// the API server's refusal names the object.
func TestApplyImpersonated(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	sa := grantServiceAccount(t, ns, []string{"configmaps"}, []string{"get", "list", "patch", "create"})
	c, _ := countingClient(t, sa)
	m := NewManager(cluster(t).Client, testOwner).WithClient(c)
	cs, err := m.ApplyAllStaged(ctx, objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: ok, namespace: NS}
---
apiVersion: v1
kind: Secret
metadata: {name: denied, namespace: NS}
`), ApplyOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "Secret/"+ns+"/denied: ") || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("err = %v, want Secret/%s/denied forbidden", err, ns)
	}
	assertActions(t, cs, "ConfigMap/"+ns+"/ok created")
	live(t, configMapGVK, ns, "ok")
}

// TestCustomApplyStage: kinds in CustomStageKinds are applied in a stage of their own, before
// the rest: a failure there stops the later stage (a Secret is not applied), where without
// the custom stage both land in the same stage and the Secret is applied.
func TestCustomApplyStage(t *testing.T) {
	ctx := context.Background()
	manifests := `
apiVersion: v1
kind: Secret
metadata: {name: later, namespace: NS}
stringData: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: Invalid_Name, namespace: NS}
data: {k: v}
`
	for _, custom := range []bool{true, false} {
		ns := newNamespace(t)
		opts := ApplyOptions{Concurrency: 1}
		if custom {
			opts.CustomStageKinds = []schema.GroupKind{{Kind: "ConfigMap"}}
		}
		_, err := NewManager(cluster(t).Client, testOwner).ApplyAllStaged(ctx, objects(t, ns, strings.ReplaceAll(manifests, "NS", ns)), opts)
		if err == nil {
			t.Fatal("the invalid ConfigMap was applied")
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Secret"})
		getErr := cluster(t).Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "later"}, u)
		if applied := getErr == nil; applied == custom {
			t.Errorf("custom stage %t: Secret applied = %t", custom, applied)
		}
	}
}
