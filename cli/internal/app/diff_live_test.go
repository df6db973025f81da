package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
)

// localFleet writes the fleet to a local Git work tree, as a user's checkout.
func localFleet(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := framework.WriteTree(dir, files); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// build builds a local checkout with the Kustomization and variables read from the cluster.
func (lc *liveCase) build(t *testing.T) {
	dir := localFleet(t, liveFleet())
	// The Kustomization comes from the cluster, CLUSTER_NAME from its substituteFrom ConfigMap.
	r := lc.run(t, 0, "build", "kustomization", "apps", "--path", filepath.Join(dir, "apps"))
	golden.Assert(t, "build-live-apps", r.stdout)
	// --dry-run with the file from the repository: substituteFrom is not read.
	r = lc.run(t, 0, "build", "ks", "apps", "--path", filepath.Join(dir, "apps"),
		"--kustomization-file", filepath.Join(dir, "clusters/dev/apps.yaml"), "--dry-run")
	wants(t, "stdout", r.stdout, "  cluster: null\n") // ${CLUSTER_NAME} became empty YAML
	r = lc.run(t, 1, "build", "ks", "nope", "--path", filepath.Join(dir, "apps"))
	wants(t, "stderr", r.stderr, "✗ Kustomization flux-system/nope not found")
}

// diff dry-runs local changes against what kustomize-controller applied: exit code 0 for
// none, 1 with differences (drift, creations, prunes; Secret values masked), 2 for errors.
func (lc *liveCase) diff(t *testing.T) {
	path := func(dir string) string { return filepath.Join(dir, "apps") }
	t.Run("no changes", func(t *testing.T) {
		r := lc.run(t, 0, "diff", "kustomization", "apps", "--path", path(localFleet(t, liveFleet())))
		if r.stdout != "" || r.stderr != "" {
			t.Fatalf("stdout %q, stderr %q", r.stdout, r.stderr)
		}
	})
	t.Run("changes", func(t *testing.T) {
		files := liveFleet()
		files["apps/deployment.yaml"] = strings.Replace(files["apps/deployment.yaml"], "replicas: 1", "replicas: 2", 1)
		files["apps/secret.yaml"] = strings.Replace(files["apps/secret.yaml"], "hunter2-live", "correct-horse-live", 1)
		files["apps/extra.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: apps}\n"
		delete(files, "apps/service.yaml")
		r := lc.run(t, 1, "diff", "ks", "apps", "--path", path(localFleet(t, files)))
		golden.Assert(t, "diff-changes", r.stdout)
		if r.stderr != "⚠️ identified at least one change, exiting with non-zero exit code\n" {
			t.Errorf("stderr %q", r.stderr)
		}
		for _, secret := range []string{"hunter2", "correct-horse", "aHVudGVy", "Y29ycmVjd"} {
			if strings.Contains(r.stdout, secret) {
				t.Errorf("the diff shows a secret value (%s)", secret)
			}
		}
		// Nothing was applied.
		var cm corev1.ConfigMap
		if err := lc.env.Client.Get(context.Background(), client.ObjectKey{Namespace: "apps", Name: "extra"}, &cm); err == nil {
			t.Error("diff created the ConfigMap")
		}
	})
	t.Run("kustomization file with the cluster's inventory", func(t *testing.T) {
		files := liveFleet()
		delete(files, "apps/service.yaml")
		dir := localFleet(t, files)
		r := lc.run(t, 1, "diff", "ks", "apps", "--path", path(dir), "--kustomization-file", filepath.Join(dir, "clusters/dev/apps.yaml"))
		if r.stdout != "► Service/apps/podinfo deleted\n" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
	t.Run("invalid manifest", func(t *testing.T) {
		files := liveFleet()
		files["apps/service.yaml"] = strings.Replace(files["apps/service.yaml"], "port: 9898", "port: not-a-number", 1)
		r := lc.run(t, 2, "diff", "ks", "apps", "--path", path(localFleet(t, files)))
		wants(t, "stderr", r.stderr, "✗ server-side dry-run failed: Service/apps/podinfo")
	})
	t.Run("missing kustomization", func(t *testing.T) {
		r := lc.run(t, 2, "diff", "ks", "nope", "--path", path(localFleet(t, liveFleet())))
		wants(t, "stderr", r.stderr, "✗ Kustomization flux-system/nope not found")
	})
}
