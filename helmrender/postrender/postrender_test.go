package postrender

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v2 "gotk.dev/helm-controller/api/v2"
)

const rendered = `---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels:
    team: a
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
        - name: app
          image: ghcr.io/stefanprodan/podinfo:6.0.0
---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  a: b
`

func decode(t *testing.T, out *bytes.Buffer) map[string]*unstructured.Unstructured {
	t.Helper()
	objs := map[string]*unstructured.Unstructured{}
	for _, doc := range strings.Split(out.String(), "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("decode %q: %v", doc, err)
		}
		if len(u.Object) > 0 {
			objs[u.GetKind()] = u
		}
	}
	return objs
}

func TestPostRenderer(t *testing.T) {
	obj := &v2.HelmRelease{}
	obj.Name, obj.Namespace = "app", "apps"
	obj.Spec.PostRenderers = []v2.PostRenderer{
		{Kustomize: &v2.Kustomize{
			Patches: []kustomize.Patch{
				{Target: &kustomize.Selector{Kind: "Deployment"}, Patch: "- op: add\n  path: /spec/replicas\n  value: 3\n"},
				{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  added: by-patch\n"},
			},
			Images: []kustomize.Image{{Name: "ghcr.io/stefanprodan/podinfo", NewTag: "6.5.0"}},
		}},
		{Kustomize: &v2.Kustomize{Patches: []kustomize.Patch{
			// The second post-renderer sees the output of the first.
			{Target: &kustomize.Selector{Kind: "Deployment", LabelSelector: "team=a"}, Patch: "- op: replace\n  path: /spec/replicas\n  value: 4\n"},
		}}},
	}
	obj.Spec.CommonMetadata = &v2.CommonMetadata{Labels: map[string]string{"env": "prod", "team": "b"}, Annotations: map[string]string{"owner": "ops"}}

	pr, err := PostRenderer(obj)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pr.Run(bytes.NewBufferString(rendered))
	if err != nil {
		t.Fatal(err)
	}
	objs := decode(t, out)
	dep, cm := objs["Deployment"], objs["ConfigMap"]
	if dep == nil || cm == nil {
		t.Fatalf("objects lost: %s", out)
	}
	if r, _, _ := unstructured.NestedFieldNoCopy(dep.Object, "spec", "replicas"); r != float64(4) {
		t.Errorf("replicas = %v, want 4 (patched by both post-renderers in order)", r)
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if img := containers[0].(map[string]interface{})["image"]; img != "ghcr.io/stefanprodan/podinfo:6.5.0" {
		t.Errorf("image = %v", img)
	}
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "added"); v != "by-patch" {
		t.Errorf("strategic merge patch not applied: %v", cm.Object["data"])
	}
	for _, o := range []*unstructured.Unstructured{dep, cm} {
		l := o.GetLabels()
		if l["env"] != "prod" || l["team"] != "b" || l[v2.NameLabel] != "app" || l[v2.NamespaceLabel] != "apps" {
			t.Errorf("%s labels = %v", o.GetKind(), l)
		}
		if o.GetAnnotations()["owner"] != "ops" {
			t.Errorf("%s annotations = %v", o.GetKind(), o.GetAnnotations())
		}
	}
	// Common metadata goes to metadata only, never into selectors or pod templates.
	if sel, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "selector", "matchLabels"); len(sel) != 1 {
		t.Errorf("selector changed: %v", sel)
	}
	if tl, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "metadata", "labels"); len(tl) != 1 {
		t.Errorf("pod template labels changed: %v", tl)
	}
}

func TestPostRendererErrorNamesTheEntry(t *testing.T) {
	obj := &v2.HelmRelease{}
	obj.Spec.PostRenderers = []v2.PostRenderer{{}, {Kustomize: &v2.Kustomize{Patches: []kustomize.Patch{
		{Target: &kustomize.Selector{Kind: "Deployment"}, Patch: "- op: replace\n  path: /spec/missing/field\n  value: 1\n"},
	}}}}
	pr, err := PostRenderer(obj)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pr.Run(bytes.NewBufferString(rendered))
	if err == nil || !strings.Contains(err.Error(), "spec.postRenderers[1].kustomize") {
		t.Fatalf("error = %v, want it to name spec.postRenderers[1].kustomize", err)
	}
}
