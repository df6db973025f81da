package app

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// version: flux version reports the Kubernetes version and every Flux controller the
// namespace runs, by Deployment name, read from the live cluster. The Deployments live in a
// namespace of their own, so no other subtest sees them.
func (lc *liveCase) version(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deployment := func(name, image string) string {
		return `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: version-check, labels: {app.kubernetes.io/part-of: flux}}
spec:
  replicas: 0
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec: {containers: [{name: manager, image: "` + image + `"}]}
`
	}
	manifests := "apiVersion: v1\nkind: Namespace\nmetadata: {name: version-check}\n" +
		deployment("source-controller", "ghcr.io/fluxcd/source-controller:v1.7.0") +
		deployment("kustomize-controller", "gotk.dev/kustomize-controller:v0.9.0@sha256:0000000000000000000000000000000000000000000000000000000000000000") +
		deployment("helm-controller", "gotk.dev/helm-controller:v0.9.1") +
		"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: not-flux, namespace: version-check}\nspec: {replicas: 0, selector: {matchLabels: {app: x}}, template: {metadata: {labels: {app: x}}, spec: {containers: [{name: x, image: \"x:1\"}]}}}\n"
	if _, err := lc.env.Apply(ctx, manifests); err != nil {
		t.Fatal(err)
	}
	r := lc.run(t, 0, "version", "-n", "version-check", "-o", "json")
	var got map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	want := map[string]string{"flux": Version, "source-controller": "v1.7.0", "kustomize-controller": "v0.9.0", "helm-controller": "v0.9.1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if got["kubernetes"] == "" || got["not-flux"] != "" || len(got) != 5 {
		t.Errorf("version reports %v", got)
	}
	r = lc.run(t, 0, "version", "-n", "version-check")
	wants(t, "yaml", r.stdout, "helm-controller: v0.9.1\n", "kubernetes: v1.")
}
