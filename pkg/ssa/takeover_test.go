package ssa

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: NS
  annotations: ANNOTATIONS
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
`

// kubectlEdit changes the live Deployment as `kubectl edit` does: a patch (an Update in
// managed-fields terms) by the field manager "kubectl-edit".
func kubectlEdit(t *testing.T, ns, manager string, patchType types.PatchType, patch string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(deploymentGVK)
	u.SetNamespace(ns)
	u.SetName("podinfo")
	if err := cluster(t).Client.Patch(context.Background(), u, client.RawPatch(patchType, []byte(patch)), client.FieldOwner(manager)); err != nil {
		t.Fatal(err)
	}
}

func deploymentState(t *testing.T, ns string) (replicas int64, image string, labels map[string]string) {
	t.Helper()
	d := live(t, deploymentGVK, ns, "podinfo")
	replicas, _, _ = unstructured.NestedInt64(d.Object, "spec", "replicas")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	image, _ = containers[0].(map[string]any)["image"].(string)
	return replicas, image, d.GetLabels()
}

// ourFields returns the managed fields of our Apply entry as JSON.
func ourFields(t *testing.T, ns string) string {
	t.Helper()
	for _, e := range live(t, deploymentGVK, ns, "podinfo").GetManagedFields() {
		if e.Manager == testOwner.Field && e.Operation == "Apply" {
			return string(e.FieldsV1.Raw)
		}
	}
	t.Fatal("no managed fields entry of ours")
	return ""
}

func TestKubectlTakeoverAndIgnoreRules(t *testing.T) {
	replicasRule := []IgnoreRule{{Paths: []string{"/spec/replicas"}}}
	const image0 = "ghcr.io/stefanprodan/podinfo:6.7.0"
	const image1 = "ghcr.io/stefanprodan/podinfo:6.7.1"
	editReplicas := `{"metadata":{"labels":{"edited":"yes"}},"spec":{"replicas":5}}`
	editImage := `{"metadata":{"labels":{"edited":"yes"}},"spec":{"template":{"spec":{"containers":[{"name":"podinfo","image":"` + image1 + `"}]}}}}`
	tests := []struct {
		name        string
		annotations string
		rules       []IgnoreRule
		manager     string
		patchType   types.PatchType
		edit        string
		// after the edit and each of two applies
		wantReplicas int64
		wantImage    string
		wantLabel    bool
		wantAction   Action
		wantRequests int // of the first apply after the edit
	}{
		{name: "edit reverted", manager: "kubectl-edit", patchType: types.MergePatchType, edit: editReplicas,
			wantReplicas: 2, wantImage: image0, wantAction: Configured, wantRequests: 3},
		{name: "kubectl patch reverted", manager: "kubectl-patch", patchType: types.StrategicMergePatchType, edit: editImage,
			wantReplicas: 2, wantImage: image0, wantAction: Configured, wantRequests: 3},
		{name: "ignored replicas kept, label reverted", rules: replicasRule, manager: "kubectl-edit", patchType: types.MergePatchType, edit: editReplicas,
			wantReplicas: 5, wantImage: image0, wantAction: Configured, wantRequests: 3},
		{name: "ignored container image kept", rules: []IgnoreRule{{Paths: []string{"/spec/template/spec/containers/0/image"}}},
			manager: "kubectl-edit", patchType: types.StrategicMergePatchType, edit: editImage,
			wantReplicas: 2, wantImage: image1, wantAction: Configured, wantRequests: 3},
		{name: "rule for another kind does not apply", rules: []IgnoreRule{{Paths: []string{"/spec/replicas"}, Target: &kustomize.Selector{Kind: "StatefulSet"}}},
			manager: "kubectl-edit", patchType: types.MergePatchType, edit: editReplicas,
			wantReplicas: 2, wantImage: image0, wantAction: Configured, wantRequests: 3},
		{name: "rule selecting by name", rules: []IgnoreRule{{Paths: []string{"/spec/replicas"}, Target: &kustomize.Selector{Kind: "Deploy.*", Name: "pod.*"}}},
			manager: "kubectl-edit", patchType: types.MergePatchType, edit: editReplicas,
			wantReplicas: 5, wantImage: image0, wantAction: Configured, wantRequests: 3},
		{name: "merge policy keeps others' fields", annotations: "{kustomize.toolkit.fluxcd.io/ssa: merge}",
			manager: "kubectl-edit", patchType: types.MergePatchType, edit: `{"metadata":{"labels":{"edited":"yes"}}}`,
			wantReplicas: 2, wantImage: image0, wantLabel: true, wantAction: Unchanged, wantRequests: 1},
		{name: "other managers are not cleaned up", manager: "helm", patchType: types.MergePatchType, edit: `{"metadata":{"labels":{"edited":"yes"}}}`,
			wantReplicas: 2, wantImage: image0, wantLabel: true, wantAction: Unchanged, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ns := newNamespace(t)
			c, cnt := countingClient(t, "")
			m := NewManager(c, testOwner)
			annotations := tt.annotations
			if annotations == "" {
				annotations = "{}"
			}
			manifest := strings.Replace(deployment, "ANNOTATIONS", annotations, 1)
			objs := objects(t, ns, manifest)
			warm(t, c, cnt, objs)
			opts := ApplyOptions{IgnoreRules: tt.rules, PreviousInventory: inventory.New(nil)}

			cs, err := m.ApplyAllStaged(ctx, objs, opts)
			if err != nil {
				t.Fatal(err)
			}
			assertActions(t, cs, "Deployment/"+ns+"/podinfo created")
			if replicas, image, _ := deploymentState(t, ns); replicas != 2 || image != image0 {
				t.Errorf("created with replicas %d image %s, want the manifest's 2 and %s", replicas, image, image0)
			}
			if ignored := len(tt.rules) > 0 && tt.rules[0].Target == nil || strings.Contains(tt.name, "by name"); ignored {
				// Created from the full manifest, then the ignored paths released: 2 requests.
				if n := len(cnt.take()); n != 2 {
					t.Errorf("create made %d requests, want 2", n)
				}
				fields := ourFields(t, ns)
				if strings.Contains(fields, `"f:replicas"`) && tt.rules[0].Paths[0] == "/spec/replicas" ||
					strings.Contains(fields, `"f:image"`) && strings.HasSuffix(tt.rules[0].Paths[0], "/image") {
					t.Errorf("our managed fields still own the ignored path: %s", fields)
				}
			} else if n := len(cnt.take()); n != 1 {
				t.Errorf("create made %d requests, want 1", n)
			}
			opts.PreviousInventory = inventory.New(objs)

			kubectlEdit(t, ns, tt.manager, tt.patchType, tt.edit)
			// Past the second of our last apply, so an edit by others is not mistaken for ours.
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
			for i := range 2 {
				cs, err := m.ApplyAllStaged(ctx, objects(t, ns, manifest), opts)
				if err != nil {
					t.Fatal(err)
				}
				want, wantRequests := tt.wantAction, tt.wantRequests
				if i == 1 {
					want, wantRequests = Unchanged, 1
				}
				assertActions(t, cs, "Deployment/"+ns+"/podinfo "+string(want))
				if n := len(cnt.take()); n != wantRequests {
					t.Errorf("apply %d made %d requests, want %d", i+1, n, wantRequests)
				}
				replicas, image, labels := deploymentState(t, ns)
				if replicas != tt.wantReplicas || image != tt.wantImage || (labels["edited"] == "yes") != tt.wantLabel {
					t.Errorf("after apply %d: replicas %d image %s labels %v; want replicas %d image %s edited label %v",
						i+1, replicas, image, labels, tt.wantReplicas, tt.wantImage, tt.wantLabel)
				}
			}
		})
	}
}

// TestTakeoverClientSideApply: objects created with `kubectl apply` (client-side) before
// Flux manages them lose the fields only kubectl set.
func TestTakeoverClientSideApply(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	cm := &unstructured.Unstructured{}
	cm.SetGroupVersionKind(configMapGVK)
	cm.SetNamespace(ns)
	cm.SetName("legacy")
	cm.Object["data"] = map[string]any{"keep": "1", "drop": "2"}
	if err := cluster(t).Client.Create(ctx, cm, client.FieldOwner("kubectl-client-side-apply")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	m := NewManager(cluster(t).Client, testOwner)
	manifest := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: legacy, namespace: NS}\ndata: {keep: \"1\"}\n"
	cs, err := m.ApplyAllStaged(ctx, objects(t, ns, manifest), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, "ConfigMap/"+ns+"/legacy configured")
	got := live(t, configMapGVK, ns, "legacy")
	if data := got.Object["data"].(map[string]any); len(data) != 1 || data["keep"] != "1" {
		t.Errorf("data = %v, want only keep=1", data)
	}
	for _, e := range got.GetManagedFields() {
		if e.Manager != testOwner.Field {
			t.Errorf("managed fields entry of %s left: %s", e.Manager, e.FieldsV1.Raw)
		}
	}
	// An empty cleanup list takes over nothing.
	if err := cluster(t).Client.Patch(ctx, got, client.RawPatch(types.MergePatchType, []byte(`{"data":{"extra":"x"}}`)), client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ApplyAllStaged(ctx, objects(t, ns, manifest), ApplyOptions{CleanupManagers: []string{}}); err != nil {
		t.Fatal(err)
	}
	if data := live(t, configMapGVK, ns, "legacy").Object["data"].(map[string]any); data["extra"] != "x" {
		t.Errorf("data = %v, want extra kept with no cleanup managers", data)
	}
}

// TestIgnoreRulesWithoutInventory: when the caller cannot tell whether objects are new, the
// ignored paths are left out of the apply; when that apply created the object, the full
// manifest is applied once more (a created object starts from the manifest's values, as
// with a known inventory) and the ignored paths are released.
func TestIgnoreRulesWithoutInventory(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	c, cnt := countingClient(t, "")
	objs := objects(t, ns, strings.Replace(deployment, "ANNOTATIONS", "{}", 1))
	warm(t, c, cnt, objs)
	m := NewManager(c, testOwner)
	opts := ApplyOptions{IgnoreRules: []IgnoreRule{{Paths: []string{"/spec/replicas"}}}}
	cs, err := m.ApplyAllStaged(ctx, objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, cs, "Deployment/"+ns+"/podinfo created")
	// The apply without the ignored path, the full one, the managed-fields release.
	if n := len(cnt.take()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if replicas, _, _ := deploymentState(t, ns); replicas != 2 {
		t.Errorf("replicas = %d, want the manifest's 2", replicas)
	}
	if fields := ourFields(t, ns); strings.Contains(fields, "f:replicas") {
		t.Errorf("we own an ignored path: %s", fields)
	}
	// Once the object exists, the ignored path is never sent: an edit of it is kept.
	kubectlEdit(t, ns, "kubectl-edit", types.MergePatchType, `{"spec":{"replicas":5}}`)
	if _, err := m.ApplyAllStaged(ctx, objects(t, ns, strings.Replace(deployment, "ANNOTATIONS", "{}", 1)), opts); err != nil {
		t.Fatal(err)
	}
	if replicas, _, _ := deploymentState(t, ns); replicas != 5 {
		t.Errorf("replicas = %d, want the edit (5) kept", replicas)
	}
}
