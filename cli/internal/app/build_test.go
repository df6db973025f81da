package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"
)

// TestBuildKustomizationDryRun builds local directories with the overrides of a Kustomization
// read from a file, without any cluster (--dry-run; the kubeconfig does not exist).
func TestBuildKustomizationDryRun(t *testing.T) {
	dir := copyFixture(t, "build-fixture")
	ksFile := filepath.Join(dir, "ks.yaml")
	tests := []struct {
		name   string
		args   []string
		golden string
		want   []string // substrings of stdout, when there is no golden
		absent []string
	}{
		{
			name: "overrides, substitution, owner labels and SOPS masking",
			args: []string{"build", "kustomization", "staging", "--path", filepath.Join(dir, "apps/staging"),
				"--kustomization-file", ksFile, "--dry-run"},
			golden: "build-staging-dry-run",
		},
		{
			name: "ignore paths relative to --path",
			args: []string{"build", "ks", "plain", "--path", filepath.Join(dir, "apps/plain"),
				"--kustomization-file", ksFile, "--dry-run", "--ignore-paths", "b.yaml"},
			want:   []string{"name: a\n", "kustomize.toolkit.fluxcd.io/name: plain\n", "kustomize.toolkit.fluxcd.io/namespace: flux-system\n"},
			absent: []string{"name: b\n", "---"},
		},
		{
			name: "a plain directory gets a generated kustomization",
			args: []string{"build", "ks", "plain", "--path", filepath.Join(dir, "apps/plain"),
				"--kustomization-file", ksFile, "--dry-run"},
			want: []string{"name: a\n", "---\n", "name: b\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlux(t, "", append(tt.args, missingKubeconfig(t))...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if tt.golden != "" {
				golden.Assert(t, tt.golden, r.stdout)
			}
			wants(t, "stdout", r.stdout, tt.want...)
			for _, a := range tt.absent {
				if strings.Contains(r.stdout, a) {
					t.Errorf("stdout has %q:\n%s", a, r.stdout)
				}
			}
		})
	}
}

// TestBuildKustomizationErrors: bad input fails with exit 1 and a message naming it.
func TestBuildKustomizationErrors(t *testing.T) {
	dir := copyFixture(t, "build-fixture")
	ksFile := filepath.Join(dir, "ks.yaml")
	strictFile := filepath.Join(dir, "strict.yaml")
	strict := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: staging, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: GitRepository, name: apps}
  postBuild:
    substitute: {REPLICAS: "2"}
`
	if err := os.WriteFile(strictFile, []byte(strict), 0o644); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(dir, "apps/staging")
	// Outside a Git work tree the build may read only below --path.
	escape := filepath.Join(t.TempDir(), "escape")
	if err := os.MkdirAll(escape, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(escape, "kustomization.yaml"), []byte("resources: [../outside.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(escape, "../outside.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no path", []string{"build", "ks", "staging", "--kustomization-file", ksFile, "--dry-run"}, "--path is required"},
		{"path is not a directory", []string{"build", "ks", "staging", "--path", ksFile, "--kustomization-file", ksFile, "--dry-run"}, "invalid resource path"},
		{"dry run needs a file", []string{"build", "ks", "staging", "--path", staging, "--dry-run"}, "--kustomization-file is required in dry-run mode"},
		{"name not in the file", []string{"build", "ks", "prod", "--path", staging, "--kustomization-file", ksFile, "--dry-run"}, `has no Kustomization named "prod" (it has staging, plain)`},
		{"strict substitution", []string{"build", "ks", "staging", "--path", staging, "--kustomization-file", strictFile, "--dry-run", "--strict-substitute"}, "CLUSTER_NAME"},
		{"build escapes the root", []string{"build", "ks", "staging", "--path", escape, "--kustomization-file", strictFile, "--dry-run"}, "outside the source root"},
		{"no cluster without dry run", []string{"build", "ks", "staging", "--path", staging}, "no Kubernetes cluster configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlux(t, "", append(tt.args, missingKubeconfig(t))...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			wants(t, "stderr", r.stderr, "✗ ", tt.want)
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
		})
	}
}
