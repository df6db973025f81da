package app

import (
	"context"
	"fmt"
	"testing"

	"gotk.dev/internal/testing/golden"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// helm traces an object a HelmRelease installed (HelmRelease, HelmChart, HelmRepository) and
// expands a HelmRelease's inventory in a tree. No helm-controller runs: the objects are
// suspended and their status is written by the test, as helm-controller would.
func (lc *liveCase) helm(t *testing.T) {
	ctx := context.Background()
	objs, err := lc.env.Apply(ctx, `
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {url: "https://stefanprodan.github.io/podinfo", interval: 10m, suspend: true}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {name: apps-podinfo, namespace: flux-system}
spec: {chart: podinfo, version: "6.x", interval: 10m, suspend: true, sourceRef: {kind: HelmRepository, name: podinfo}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: apps}
spec:
  interval: 10m
  suspend: true
  chart:
    spec: {chart: podinfo, version: "6.x", sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: helm-apps, namespace: flux-system}
spec: {interval: 10m, prune: true, suspend: true, sourceRef: {kind: GitRepository, name: fleet}}
---
apiVersion: v1
kind: Service
metadata:
  name: podinfo-helm
  namespace: apps
  labels: {helm.toolkit.fluxcd.io/name: podinfo, helm.toolkit.fluxcd.io/namespace: apps}
spec:
  ports: [{port: 9898}]
`)
	if err != nil {
		t.Fatal(err)
	}
	ready := `{"type": "Ready", "status": "True", "reason": "Succeeded", "message": %q, "lastTransitionTime": "2024-05-01T12:00:00Z"}`
	statuses := map[string]string{
		"HelmRepository": `{"status": {"artifact": {"path": "p", "url": "http://x/p", "revision": "sha256:` + sha256Hex("index") + `", "digest": "sha256:` + sha256Hex("artifact") + `", "size": 1, "lastUpdateTime": "2024-05-01T12:00:00Z"},
			"conditions": [` + fmt.Sprintf(ready, "stored artifact: revision 'sha256:...'") + `]}}`,
		"HelmChart": `{"status": {"artifact": {"path": "p", "url": "http://x/p", "revision": "6.0.0", "digest": "sha256:` + sha256Hex("artifact") + `", "size": 1, "lastUpdateTime": "2024-05-01T12:00:00Z"},
			"conditions": [` + fmt.Sprintf(ready, "pulled 'podinfo' chart with version '6.0.0'") + `]}}`,
		"HelmRelease": `{"status": {"helmChart": "flux-system/apps-podinfo", "lastAttemptedRevision": "6.0.0",
			"history": [{"digest": "sha256:` + sha256Hex("release") + `", "name": "podinfo", "namespace": "apps", "version": 1, "status": "deployed",
				"chartName": "podinfo", "chartVersion": "6.0.0", "configDigest": "sha256:` + sha256Hex("values") + `",
				"firstDeployed": "2024-05-01T12:00:00Z", "lastDeployed": "2024-05-01T12:00:00Z"}],
			"inventory": {"entries": [{"id": "apps_podinfo-helm__Service", "v": "v1"}]},
			"conditions": [` + fmt.Sprintf(ready, "Helm install succeeded for release apps/podinfo.v1 with chart podinfo@6.0.0") + `]}}`,
		"Kustomization": `{"status": {"inventory": {"entries": [{"id": "apps_podinfo_helm.toolkit.fluxcd.io_HelmRelease", "v": "v2"}]}}}`,
	}
	for _, o := range objs {
		patch, ok := statuses[o.GetKind()]
		if !ok {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GroupVersionKind())
		u.SetNamespace(o.GetNamespace())
		u.SetName(o.GetName())
		if err := lc.env.Client.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			t.Fatalf("status of %s: %v", o.GetKind(), err)
		}
	}
	r := lc.run(t, 0, "trace", "Service/podinfo-helm", "-n", "apps")
	golden.Assert(t, "trace-helmrelease", lc.norm.apply(r.stdout))
	r = lc.run(t, 0, "tree", "ks", "helm-apps")
	if want := "Kustomization/flux-system/helm-apps\n└── HelmRelease/apps/podinfo\n    └── Service/apps/podinfo-helm\n"; r.stdout != want {
		t.Errorf("tree:\n%s\nwant:\n%s", r.stdout, want)
	}
}
