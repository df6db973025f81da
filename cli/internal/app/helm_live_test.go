package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/internal/testing/helmrepo"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestLiveHelmRelease runs the HelmRelease commands against a local cluster with the real
// source-controller and helm-controller: create (applied and waited for), get, debug
// --show-values, diff (in sync, then a local change), reconcile --force and --with-source,
// suspend/resume, export, trace of a released object, and delete (uninstalled).
func TestLiveHelmRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster and controllers")
	}
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = opts.WithControllers("source-controller", "helm-controller")
	opts.Namespaces = []string{"apps"}
	env := framework.Setup(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	podinfo := helmrepo.PodinfoDir()
	if _, err := env.PushArtifact(ctx, "charts/podinfo", "6.14.1", podinfo, "flux-cli-test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Apply(ctx, fmt.Sprintf(`
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: podinfo, namespace: apps}
spec: {url: %q, interval: 10m, insecure: true, ref: {tag: 6.14.1}}
---
apiVersion: v1
kind: Secret
metadata: {name: podinfo-values, namespace: apps}
stringData:
  values.yaml: |
    ui:
      message: from-a-secret
`, env.OCIURL("charts/podinfo"))); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitReady(ctx, &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "apps"}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	lc := &liveCase{env: env, kc: "--kubeconfig=" + env.Cluster.Kubeconfig, norm: liveNormalizer()}
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("replicaCount: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := lc.run(t, 0, "create", "hr", "podinfo", "-n", "apps", "--chart-ref=OCIRepository/podinfo", "--values", values,
		"--values-from=Secret/podinfo-values", "--timeout=2m")
	wants(t, "create stderr", r.stderr, "HelmRelease created", "HelmRelease podinfo is ready", "applied revision 6.14.1+")

	r = lc.run(t, 0, "get", "hr", "-n", "apps")
	wants(t, "get", r.stdout, "podinfo", "6.14.1+", "True", "Helm install succeeded")

	r = lc.run(t, 0, "debug", "hr", "podinfo", "-n", "apps", "--show-values")
	if r.stdout != "replicaCount: 2\nui:\n  message: from-a-secret\n" {
		t.Errorf("debug --show-values:\n%s", r.stdout)
	}

	// In sync: no difference.
	r = lc.run(t, 0, "diff", "hr", "podinfo", "-n", "apps")
	if r.stdout != "" {
		t.Errorf("diff of a release in sync:\n%s", r.stdout)
	}
	// A local change of the HelmRelease: the Deployment would change.
	hrFile := filepath.Join(t.TempDir(), "hr.yaml")
	r = lc.run(t, 0, "export", "hr", "podinfo", "-n", "apps")
	if err := os.WriteFile(hrFile, []byte(strings.Replace(r.stdout, "replicaCount: 2", "replicaCount: 5", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = lc.run(t, 1, "diff", "hr", "podinfo", "-n", "apps", "--helmrelease-file", hrFile)
	wants(t, "diff", r.stdout, "► Deployment/apps/podinfo drifted", "-  replicas: 2", "+  replicas: 5")
	r = lc.run(t, 2, "diff", "hr", "nope", "-n", "apps")
	wants(t, "diff of a missing HelmRelease", r.stderr, "HelmRelease apps/nope not found")

	r = lc.run(t, 0, "reconcile", "hr", "podinfo", "-n", "apps", "--force", "--with-source")
	wants(t, "reconcile", r.stderr, "annotating OCIRepository podinfo", "annotating HelmRelease podinfo", "applied revision 6.14.1+")
	var hr helmv2.HelmRelease
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "podinfo"}, &hr); err != nil {
		t.Fatal(err)
	}
	if hr.Status.History.Latest().Version != 2 || hr.Status.LastHandledForceAt == "" {
		t.Errorf("--force did not upgrade: history %d entries, lastHandledForceAt %q", len(hr.Status.History), hr.Status.LastHandledForceAt)
	}

	lc.run(t, 0, "suspend", "hr", "podinfo", "-n", "apps")
	r = lc.run(t, 1, "reconcile", "hr", "podinfo", "-n", "apps")
	wants(t, "reconcile suspended", r.stderr, "is suspended")
	lc.run(t, 0, "resume", "hr", "podinfo", "-n", "apps")

	r = lc.run(t, 0, "trace", "Deployment/podinfo", "-n", "apps")
	wants(t, "trace", r.stdout, "HelmRelease:    podinfo", "OCIRepository:  podinfo", "6.14.1+")

	lc.run(t, 0, "delete", "hr", "podinfo", "-n", "apps", "--silent")
	deadline := time.Now().Add(time.Minute)
	for env.Client.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "podinfo"}, &hr) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the HelmRelease was not deleted (uninstall)")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
