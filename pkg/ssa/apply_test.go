package ssa

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/pkg/inventory"
)

const podinfo = `
apiVersion: v1
kind: ServiceAccount
metadata:
  name: podinfo
  namespace: NS
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: podinfo
  namespace: NS
  labels:
    kustomize.toolkit.fluxcd.io/name: podinfo
data:
  color: blue
---
apiVersion: v1
kind: Service
metadata:
  name: podinfo
  namespace: NS
spec:
  selector:
    app: podinfo
  ports:
  - name: http
    port: 9898
    targetPort: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: NS
spec:
  replicas: 2
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
      - name: podinfo
        image: ghcr.io/stefanprodan/podinfo:6.7.0
        ports:
        - name: http
          containerPort: 9898
`

// TestApplyRequestCounts is the design goal in numbers: one request per object, whether the
// objects are created, unchanged (with or without the Manager's memory) or configured.
func TestApplyRequestCounts(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	c, cnt := countingClient(t, "")
	m := NewManager(c, testOwner)
	objs := objects(t, ns, podinfo)
	warm(t, c, cnt, objs)
	patches := func() []string {
		return []string{
			"PATCH /api/v1/namespaces/" + ns + "/serviceaccounts/podinfo",
			"PATCH /api/v1/namespaces/" + ns + "/configmaps/podinfo",
			"PATCH /api/v1/namespaces/" + ns + "/services/podinfo",
			"PATCH /apis/apps/v1/namespaces/" + ns + "/deployments/podinfo",
		}
	}
	names := func(action ...string) []string {
		kinds := []string{"ServiceAccount", "ConfigMap", "Service", "Deployment"}
		out := make([]string, len(kinds))
		for i, k := range kinds {
			out[i] = k + "/" + ns + "/podinfo " + action[i]
		}
		return out
	}

	cs, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, names("created", "created", "created", "created")...)
	assertRequests(t, cnt, patches()...)
	for _, u := range objs {
		if u.GetUID() == "" || u.GetResourceVersion() == "" {
			t.Errorf("%s not updated to the API server's response", inventory.FromObject(u))
		}
	}
	inv := inventory.New(objs)

	// Unchanged: the Manager remembers the resourceVersions it got.
	objs = objects(t, ns, podinfo)
	cs, err = m.ApplyAllStaged(ctx, objs, ApplyOptions{PreviousInventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, names("unchanged", "unchanged", "unchanged", "unchanged")...)
	assertRequests(t, cnt, patches()...)

	// A new Manager (a restarted controller) tells from the managed-fields time, which must
	// be older than the second before the apply.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	fresh := NewManager(c, testOwner)
	cs, err = fresh.ApplyAllStaged(ctx, objects(t, ns, podinfo), ApplyOptions{PreviousInventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, names("unchanged", "unchanged", "unchanged", "unchanged")...)
	assertRequests(t, cnt, patches()...)

	// Configured: one object changed, still one request each.
	changed := objects(t, ns, strings.Replace(podinfo, "color: blue", "color: green", 1))
	for _, mgr := range []*Manager{m, NewManager(c, testOwner)} {
		cs, err = mgr.ApplyAllStaged(ctx, changed, ApplyOptions{PreviousInventory: inv})
		if err != nil {
			t.Fatal(err)
		}
		assertActions(t, cs, names("unchanged", "configured", "unchanged", "unchanged")...)
		assertRequests(t, cnt, patches()...)
		changed = objects(t, ns, strings.Replace(podinfo, "color: blue", "color: red", 1))
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	}
	if got := live(t, configMapGVK, ns, "podinfo").Object["data"]; got.(map[string]any)["color"] != "red" {
		t.Errorf("configmap data = %v, want color red", got)
	}

	// A status update by someone else changes the resourceVersion but not our entry.
	d := live(t, deploymentGVK, ns, "podinfo")
	_ = unstructured.SetNestedField(d.Object, int64(7), "status", "observedGeneration")
	if err := cluster(t).Client.Status().Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	cs, err = m.ApplyAllStaged(ctx, objects(t, ns, strings.Replace(podinfo, "color: blue", "color: red", 1)), ApplyOptions{PreviousInventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, names("unchanged", "unchanged", "unchanged", "unchanged")...)
	assertRequests(t, cnt, patches()...)
}

// TestApplyCreatedWithoutInventory: without a previous inventory, the creation time decides.
func TestApplyCreatedWithoutInventory(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	m := NewManager(cluster(t).Client, testOwner)
	cm := `
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: NS
data:
  k: v
`
	cs, err := m.ApplyAllStaged(ctx, objects(t, ns, cm), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, "ConfigMap/"+ns+"/a created")
	// An object created by someone else long ago is configured, not created, by a new Manager.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	cs, err = NewManager(cluster(t).Client, testOwner).ApplyAllStaged(ctx, objects(t, ns, strings.Replace(cm, "k: v", "k: w", 1)), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, "ConfigMap/"+ns+"/a configured")
}
