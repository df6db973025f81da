package kustomize

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestBuildOverrides(t *testing.T) {
	root := copyTree(t, "testdata")
	tests := []struct {
		name  string
		path  string
		opts  Options
		want  []string // expected ids, in order (nil: not checked)
		check func(t *testing.T, objs []*unstructured.Unstructured)
		err   string
	}{
		{
			name: "targetNamespace replaces the kustomization's namespace",
			path: "overlay/staging",
			opts: Options{TargetNamespace: "prod"},
			want: []string{"Deployment/prod/web", "Service/prod/web", "Namespace//prod"},
		},
		{
			name: "targetNamespace on a generated kustomization",
			path: "plain/nested",
			opts: Options{TargetNamespace: "apps"},
			want: []string{"ConfigMap/apps/settings", "ServiceAccount/apps/runner", "Role/apps/runner"},
		},
		{
			name: "namePrefix and nameSuffix",
			path: "overlay/base",
			opts: Options{NamePrefix: "pre-", NameSuffix: "-suf"},
			want: []string{"Deployment//pre-web-suf", "Service//pre-web-suf"},
		},
		{
			name: "strategic merge patch without target",
			path: "overlay/base",
			opts: Options{Patches: []kustomize.Patch{{Patch: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 5
`}}},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				if r, _, _ := unstructured.NestedInt64(find(t, objs, "Deployment", "web").Object, "spec", "replicas"); r != 5 {
					t.Errorf("replicas = %d, want 5", r)
				}
			},
		},
		{
			name: "JSON6902 patch selected by kind and label selector",
			path: "plain",
			opts: Options{Patches: []kustomize.Patch{{
				Patch:  `[{"op": "add", "path": "/metadata/annotations", "value": {"patched": "yes"}}]`,
				Target: &kustomize.Selector{Kind: "ServiceAccount", LabelSelector: "!nope"},
			}}},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				for _, o := range objs {
					want := ""
					if o.GetKind() == "ServiceAccount" {
						want = "yes"
					}
					if got := o.GetAnnotations()["patched"]; got != want {
						t.Errorf("%s/%s patched = %q, want %q", o.GetKind(), o.GetName(), got, want)
					}
				}
			},
		},
		{
			name: "strategic merge patch selected by name regex and group",
			path: "plain",
			opts: Options{Patches: []kustomize.Patch{{
				Patch: `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: any
  labels:
    selected: "true"
`,
				Target: &kustomize.Selector{Group: "rbac.authorization.k8s.io", Name: "run.*"},
			}}},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				for _, o := range objs {
					want := ""
					if o.GetKind() == "Role" {
						want = "true"
					}
					if got := o.GetLabels()["selected"]; got != want {
						t.Errorf("%s/%s selected = %q, want %q", o.GetKind(), o.GetName(), got, want)
					}
				}
			},
		},
		{
			name: "patch target matching nothing changes nothing",
			path: "overlay/base",
			opts: Options{Patches: []kustomize.Patch{{
				Patch:  `[{"op": "add", "path": "/metadata/labels/x", "value": "y"}]`,
				Target: &kustomize.Selector{Kind: "Deployment", Namespace: "elsewhere"},
			}}},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				if l := find(t, objs, "Deployment", "web").GetLabels()["x"]; l != "" {
					t.Errorf("label x = %q on a non-matching object", l)
				}
			},
		},
		{
			name: "images: new name and tag, digest",
			path: "overlay/base",
			opts: Options{Images: []kustomize.Image{{Name: "nginx", NewName: "registry.local/nginx", NewTag: "1.27"}}},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				c, _, _ := unstructured.NestedSlice(find(t, objs, "Deployment", "web").Object, "spec", "template", "spec", "containers")
				if got := c[0].(map[string]any)["image"]; got != "registry.local/nginx:1.27" {
					t.Errorf("image = %v", got)
				}
			},
		},
		{
			name: "images: digest replaces the tag",
			path: "overlay/base",
			opts: Options{Images: []kustomize.Image{{Name: "nginx", Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				c, _, _ := unstructured.NestedSlice(find(t, objs, "Deployment", "web").Object, "spec", "template", "spec", "containers")
				if got := c[0].(map[string]any)["image"]; got != "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
					t.Errorf("image = %v", got)
				}
			},
		},
		{
			name: "commonMetadata: labels on objects, not on selectors or templates; annotations merged",
			path: "overlay/staging",
			opts: Options{CommonMetadata: &CommonMetadata{
				Labels:      map[string]string{"owner": "flux"},
				Annotations: map[string]string{"team": "red", "note": "x"},
			}},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				for _, o := range objs {
					if o.GetLabels()["owner"] != "flux" {
						t.Errorf("%s/%s lacks the common label", o.GetKind(), o.GetName())
					}
					if a := o.GetAnnotations(); a["team"] != "red" || a["note"] != "x" {
						t.Errorf("%s/%s annotations = %v", o.GetKind(), o.GetName(), a)
					}
				}
				d := find(t, objs, "Deployment", "web")
				sel, _, _ := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
				tpl, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
				if _, ok := sel["owner"]; ok {
					t.Errorf("selector got the common label: %v", sel)
				}
				if _, ok := tpl["owner"]; ok {
					t.Errorf("template got the common label: %v", tpl)
				}
				svcSel, _, _ := unstructured.NestedStringMap(find(t, objs, "Service", "web").Object, "spec", "selector")
				if !reflect.DeepEqual(svcSel, map[string]string{"app": "web"}) {
					t.Errorf("service selector = %v", svcSel)
				}
			},
		},
		{
			name: "component present",
			path: "components/app",
			opts: Options{Components: []string{"../components/monitoring"}},
			want: []string{"Deployment//web", "ServiceMonitor//web"},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				if a := find(t, objs, "Deployment", "web").GetAnnotations()["prometheus.io/scrape"]; a != "true" {
					t.Errorf("component patch not applied: %q", a)
				}
			},
		},
		{
			name: "missing component ignored",
			path: "components/app",
			opts: Options{Components: []string{"../components/nope", "../components/monitoring"}, IgnoreMissingComponents: true},
			want: []string{"Deployment//web", "ServiceMonitor//web"},
		},
		{
			name: "missing component fails naming it",
			path: "components/app",
			opts: Options{Components: []string{"../components/monitoring", "../components/nope"}},
			err:  "component '../components/nope' not found: 'components/components/nope' does not exist in the source",
		},
		{
			name: "component that is not a Component",
			path: "components/app",
			opts: Options{Components: []string{"../components/not-a-component"}},
			err:  "expected kind 'Component' for path 'components/components/not-a-component'",
		},
		{
			name: "component outside the root is refused even when missing ones are ignored",
			path: "components/app",
			opts: Options{Components: []string{"../../../elsewhere"}, IgnoreMissingComponents: true},
			err:  "is outside the source root",
		},
		{
			name: "all overrides together on a generated kustomization",
			path: "plain/nested",
			opts: Options{
				TargetNamespace: "t", NamePrefix: "a-", NameSuffix: "-z",
				Patches: []kustomize.Patch{{
					Patch:  `[{"op": "replace", "path": "/data/mode", "value": "slow"}]`,
					Target: &kustomize.Selector{Kind: "ConfigMap"},
				}},
				CommonMetadata: &CommonMetadata{Labels: map[string]string{"l": "v"}},
			},
			want: []string{"ConfigMap/t/a-settings-z", "ServiceAccount/t/a-runner-z", "Role/t/a-runner-z"},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				cm := find(t, objs, "ConfigMap", "a-settings-z")
				if got := nested(t, cm, "data", "mode"); got != "slow" {
					t.Errorf("mode = %q", got)
				}
				if cm.GetLabels()["l"] != "v" {
					t.Errorf("labels = %v", cm.GetLabels())
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Build(root, tt.path, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !reflect.DeepEqual(ids(objs), tt.want) {
				t.Errorf("objects:\n got %v\nwant %v", ids(objs), tt.want)
			}
			if tt.check != nil {
				tt.check(t, objs)
			}
		})
	}
}
