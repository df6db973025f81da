package ssa

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

func configMap(ns, name string, annotations map[string]string, data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(configMapGVK)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetAnnotations(annotations)
	u.Object["data"] = data
	return u
}

func TestApplyPolicies(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	existing := configMap(ns, "existing", nil, map[string]any{"k": "live"})
	if err := cluster(t).Client.Create(ctx, existing); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		object       string
		annotations  map[string]string
		wantAction   Action
		wantData     string // "" = object must not exist
		wantRequests []string
	}{
		{"ignore skips without a request", "absent-ignored", map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "Ignore"},
			Skipped, "", nil},
		{"ignore an existing object", "existing", map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "ignore"},
			Skipped, "live", nil},
		{"if-not-present leaves an existing object", "existing", map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"},
			Skipped, "live", []string{"GET /api/v1/namespaces/" + ns + "/configmaps/existing"}},
		{"if-not-present creates a missing object", "created-once", map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"},
			Created, "manifest", []string{"GET /api/v1/namespaces/" + ns + "/configmaps/created-once", "PATCH /api/v1/namespaces/" + ns + "/configmaps/created-once"}},
		{"reconcile disabled leaves an existing object", "existing", map[string]string{"kustomize.toolkit.fluxcd.io/reconcile": "Disabled"},
			Skipped, "live", []string{"GET /api/v1/namespaces/" + ns + "/configmaps/existing"}},
		{"override applies", "existing", map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "Override"},
			Configured, "manifest", []string{"PATCH /api/v1/namespaces/" + ns + "/configmaps/existing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, cnt := countingClient(t, "")
			m := NewManager(c, testOwner)
			obj := configMap(ns, tt.object, tt.annotations, map[string]any{"k": "manifest"})
			warm(t, c, cnt, []*unstructured.Unstructured{obj})
			// As in a controller: the existing object was applied before.
			cs, err := m.ApplyAllStaged(ctx, []*unstructured.Unstructured{obj}, ApplyOptions{PreviousInventory: inventory.New([]*unstructured.Unstructured{existing})})
			if err != nil {
				t.Fatal(err)
			}
			assertActions(t, cs, "ConfigMap/"+ns+"/"+tt.object+" "+string(tt.wantAction))
			assertRequests(t, cnt, tt.wantRequests...)
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(configMapGVK)
			err = cluster(t).Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tt.object}, got)
			if tt.wantData == "" {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("get: %v, want not found", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := got.Object["data"].(map[string]any)["k"]; d != tt.wantData {
				t.Errorf("live data k = %v, want %s", d, tt.wantData)
			}
			// The object handed in now reflects the cluster (for health checks).
			if tt.wantAction != Skipped || tt.wantRequests != nil {
				if obj.GetResourceVersion() != got.GetResourceVersion() {
					t.Errorf("object not updated to the live state: resourceVersion %q, live %q", obj.GetResourceVersion(), got.GetResourceVersion())
				}
			}
		})
	}
}

func TestApplyImmutable(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	immutable := func(name, value string, annotations map[string]string) *unstructured.Unstructured {
		u := configMap(ns, name, annotations, map[string]any{"k": value})
		u.Object["immutable"] = true
		return u
	}
	tests := []struct {
		name        string
		force       bool
		annotations map[string]string
		wantErr     bool
	}{
		{"refused without force", false, nil, true},
		{"force annotation disabled", false, map[string]string{"kustomize.toolkit.fluxcd.io/force": "disabled"}, true},
		{"spec.force recreates", true, nil, false},
		{"force annotation recreates", false, map[string]string{"kustomize.toolkit.fluxcd.io/force": "Enabled"}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "immutable-" + string(rune('a'+i))
			m := NewManager(cluster(t).Client, testOwner)
			first := immutable(name, "v1", tt.annotations)
			if _, err := m.ApplyAllStaged(ctx, []*unstructured.Unstructured{first}, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			obj := immutable(name, "v2", tt.annotations)
			cs, err := m.ApplyAllStaged(ctx, []*unstructured.Unstructured{obj}, ApplyOptions{Force: tt.force})
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "ConfigMap/"+ns+"/"+name+": ") || !strings.Contains(msg, "immutable") ||
					!strings.Contains(msg, "enable force (spec.force) or annotate the object with kustomize.toolkit.fluxcd.io/force: enabled") {
					t.Errorf("err = %q, want it to name the object and suggest force", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertActions(t, cs, "ConfigMap/"+ns+"/"+name+" created")
			got := live(t, configMapGVK, ns, name)
			if got.GetUID() == first.GetUID() || got.Object["data"].(map[string]any)["k"] != "v2" {
				t.Errorf("not recreated: uid %s (was %s), data %v", got.GetUID(), first.GetUID(), got.Object["data"])
			}
		})
	}

	t.Run("invalid objects are never recreated", func(t *testing.T) {
		m := NewManager(cluster(t).Client, testOwner)
		svc := objects(t, ns, "apiVersion: v1\nkind: Service\nmetadata: {name: svc, namespace: NS}\nspec: {ports: [{port: 80}]}\n")
		if _, err := m.ApplyAllStaged(ctx, svc, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		uid := svc[0].GetUID()
		bad := objects(t, ns, "apiVersion: v1\nkind: Service\nmetadata: {name: svc, namespace: NS}\nspec: {ports: [{port: 99999}]}\n")
		if _, err := m.ApplyAllStaged(ctx, bad, ApplyOptions{Force: true}); err == nil || !strings.HasPrefix(err.Error(), "Service/"+ns+"/svc: ") {
			t.Fatalf("err = %v, want the invalid Service named", err)
		}
		if got := live(t, schemaService(), ns, "svc"); got.GetUID() != uid {
			t.Error("an invalid object was deleted and recreated")
		}
	})

	t.Run("deployment selector with force", func(t *testing.T) {
		m := NewManager(cluster(t).Client, testOwner)
		manifest := strings.Replace(deployment, "ANNOTATIONS", "{}", 1)
		objs := objects(t, ns, manifest)
		if _, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		changed := objects(t, ns, strings.ReplaceAll(manifest, "app: podinfo", "app: podinfo2"))
		if _, err := m.ApplyAllStaged(ctx, changed, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "field is immutable") {
			t.Fatalf("err = %v, want field is immutable", err)
		}
		cs, err := m.ApplyAllStaged(ctx, changed, ApplyOptions{Force: true})
		if err != nil {
			t.Fatal(err)
		}
		assertActions(t, cs, "Deployment/"+ns+"/podinfo created")
		if changed[0].GetUID() == objs[0].GetUID() {
			t.Error("deployment not recreated")
		}
	})
}
