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
// objects are created, unchanged (with or without the Manager's memory) or configured. The
// request is the apply, or a read when the Manager applied the same manifest last time and
// nobody has written the object since (see unchangedSinceApply).
func TestApplyRequestCounts(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	c, cnt := countingClient(t, "")
	m := NewManager(c, testOwner)
	objs := objects(t, ns, podinfo)
	warm(t, c, cnt, objs)
	paths := []string{
		"/api/v1/namespaces/" + ns + "/serviceaccounts/podinfo",
		"/api/v1/namespaces/" + ns + "/configmaps/podinfo",
		"/api/v1/namespaces/" + ns + "/services/podinfo",
		"/apis/apps/v1/namespaces/" + ns + "/deployments/podinfo",
	}
	// requests lists, for the ServiceAccount, ConfigMap, Service and Deployment in this
	// order, the requests each one costs ("GET" or "PATCH", space-separated).
	requests := func(verbs ...string) []string {
		var out []string
		for i, v := range verbs {
			for _, verb := range strings.Fields(v) {
				out = append(out, verb+" "+paths[i])
			}
		}
		return out
	}
	applied := requests("PATCH", "PATCH", "PATCH", "PATCH")
	names := func(action ...string) []string {
		kinds := []string{"ServiceAccount", "ConfigMap", "Service", "Deployment"}
		out := make([]string, len(kinds))
		for i, k := range kinds {
			out[i] = k + "/" + ns + "/podinfo " + action[i]
		}
		return out
	}
	apply := func(mgr *Manager, manifest string, inv *inventory.Inventory) *ChangeSet {
		t.Helper()
		cs, err := mgr.ApplyAllStaged(ctx, objects(t, ns, manifest), ApplyOptions{PreviousInventory: inv})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}

	cs, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, names("created", "created", "created", "created")...)
	assertRequests(t, cnt, applied...)
	for _, u := range objs {
		if u.GetUID() == "" || u.GetResourceVersion() == "" {
			t.Errorf("%s not updated to the API server's response", inventory.FromObject(u))
		}
	}
	inv := inventory.New(objs)

	// Unchanged: the kinds without a generation are read, not applied. The Deployment's new
	// generation is for its controller to act on and report, so it is applied once more
	// rather than read (the read would most often be wasted).
	objs = objects(t, ns, podinfo)
	cs, err = m.ApplyAllStaged(ctx, objs, ApplyOptions{PreviousInventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, names("unchanged", "unchanged", "unchanged", "unchanged")...)
	assertRequests(t, cnt, requests("GET", "GET", "GET", "PATCH")...)
	for _, u := range objs {
		if u.GetUID() == "" || u.GetResourceVersion() == "" || u.Object["spec"] == nil && u.GetKind() == "Deployment" {
			t.Errorf("%s not updated to the live object", inventory.FromObject(u))
		}
	}

	// A new Manager (a restarted controller) tells from the managed-fields time, which must
	// be older than the second before the apply.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	assertActions(t, apply(NewManager(c, testOwner), podinfo, inv), names("unchanged", "unchanged", "unchanged", "unchanged")...)
	assertRequests(t, cnt, applied...)

	// Configured: one object changed, still one request each; the Deployment, quiet since
	// its last apply, is now read too.
	assertActions(t, apply(m, strings.Replace(podinfo, "color: blue", "color: green", 1), inv), names("unchanged", "configured", "unchanged", "unchanged")...)
	assertRequests(t, cnt, requests("GET", "PATCH", "GET", "GET")...)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	assertActions(t, apply(NewManager(c, testOwner), strings.Replace(podinfo, "color: blue", "color: red", 1), inv), names("unchanged", "configured", "unchanged", "unchanged")...)
	assertRequests(t, cnt, applied...)
	if got := live(t, configMapGVK, ns, "podinfo").Object["data"]; got.(map[string]any)["color"] != "red" {
		t.Errorf("configmap data = %v, want color red", got)
	}

	// A status update by someone else changes the resourceVersion but not our entry: m reads
	// the Deployment, finds it written since, and applies it (the one wasted read); the
	// ConfigMap it last applied as green, so it applies red without reading.
	d := live(t, deploymentGVK, ns, "podinfo")
	_ = unstructured.SetNestedField(d.Object, int64(7), "status", "observedGeneration")
	if err := cluster(t).Client.Status().Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	red := strings.Replace(podinfo, "color: blue", "color: red", 1)
	assertActions(t, apply(m, red, inv), names("unchanged", "unchanged", "unchanged", "unchanged")...)
	assertRequests(t, cnt, requests("GET", "PATCH", "GET", "GET PATCH")...)
	// Both were written by someone else since m's previous apply (the ConfigMap by the other
	// Manager): applied again without reading first, then read once quiet between two applies.
	assertActions(t, apply(m, red, inv), names("unchanged", "unchanged", "unchanged", "unchanged")...)
	assertRequests(t, cnt, requests("GET", "PATCH", "GET", "PATCH")...)
	assertActions(t, apply(m, red, inv), names("unchanged", "unchanged", "unchanged", "unchanged")...)
	assertRequests(t, cnt, requests("GET", "GET", "GET", "GET")...)
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
