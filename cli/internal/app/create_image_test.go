package app

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/golden"
)

// TestCreateImageExport compares flux create image ... --export with golden files; no cluster
// exists, so --export must not need one.
func TestCreateImageExport(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"create-image-repository", []string{"repository", "podinfo", "--image=ghcr.io/stefanprodan/podinfo", "--interval=5m"}},
		{"create-image-repository-auth", []string{"repository", "app", "--image=registry.example.com:5000/team/app",
			"--secret-ref=regcred", "--cert-ref=registry-ca", "--scan-timeout=30s", "--label=team=a", "--namespace=apps"}},
		{"create-image-policy-semver", []string{"policy", "podinfo", "--image-ref=podinfo", "--select-semver=>=6.0.0 <7.0.0"}},
		{"create-image-policy-numeric-filter", []string{"policy", "app", "--image-ref=app", "--select-numeric=asc",
			"--filter-regex=^main-[a-f0-9]+-(?P<ts>[0-9]+)", "--filter-extract=$ts", "--reflect-digest=Always", "--interval=10m"}},
		{"create-image-policy-alpha", []string{"policy", "app", "--image-ref=app", "--select-alpha=desc", "--reflect-digest=IfNotPresent"}},
		{"create-image-update-defaults", []string{"update", "flux-system", "--git-repo-ref=flux-system",
			"--author-name=flux", "--author-email=flux@example.com"}},
		{"create-image-update-push-branch", []string{"update", "apps", "--namespace=apps", "--git-repo-ref=flux-system",
			"--git-repo-namespace=flux-system", "--git-repo-path=./clusters/my-cluster", "--checkout-branch=main",
			"--push-branch=image-updates", "--author-name=flux", "--author-email=flux@example.com",
			"--commit-template={{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}}", "--interval=30m"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"create", "image"}, tt.args...)
			args = append(args, "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
			r := runFlux(t, "", args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(strings.TrimPrefix(r.stdout, "---\n")), &obj); err != nil || obj["kind"] == nil {
				t.Fatalf("export is not one YAML object: %v\n%s", err, r.stdout)
			}
			golden.Assert(t, tt.golden, r.stdout)
		})
	}
}

// TestCreateImageBadInput: wrong flags fail before anything reaches a cluster, naming the flag.
func TestCreateImageBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"repository", "x"}, "an image repository (--image) is required"},
		{[]string{"repository", "x", "--image=https://ghcr.io/org/app"}, `invalid --image "https://ghcr.io/org/app"`},
		{[]string{"policy", "x", "--select-semver=1.x"}, "--image-ref"},
		{[]string{"policy", "x", "--image-ref=r"}, "a policy must be provided"},
		{[]string{"policy", "x", "--image-ref=r", "--select-semver=1.x", "--select-alpha=asc"}, "only one of --select-semver"},
		{[]string{"policy", "x", "--image-ref=r", "--select-numeric=up"}, `--select-numeric must be one of ["asc", "desc"]`},
		{[]string{"policy", "x", "--image-ref=r", "--select-alpha=asc", "--filter-extract=$ts"}, "without specifying --filter-regex"},
		{[]string{"policy", "x", "--image-ref=r", "--select-alpha=asc", "--filter-regex=^(?P<n>\\d+)", "--filter-extract=$ts"}, "capture group $ts"},
		{[]string{"policy", "x", "--image-ref=r", "--select-alpha=asc", "--filter-regex=(["}, "--filter-regex is an invalid regex"},
		{[]string{"policy", "x", "--image-ref=r", "--select-alpha=asc", "--reflect-digest=Sometimes"}, "invalid --reflect-digest"},
		{[]string{"update", "x", "--author-name=a", "--author-email=e"}, "--git-repo-ref"},
		{[]string{"update", "x", "--git-repo-ref=g", "--author-email=e"}, "--author-name"},
		{[]string{"update", "x", "--git-repo-ref=g", "--author-name=a"}, "--author-email"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			args := append([]string{"create", "image"}, tt.args...)
			args = append(args, "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
			r := runFlux(t, "", args...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want an error containing %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

// imageTableObjects are image objects in the states flux get images shows.
const imageTableObjects = `
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: podinfo, namespace: flux-system, generation: 1}
spec: {image: ghcr.io/stefanprodan/podinfo, interval: 5m}
status:
  observedGeneration: 1
  lastScanResult: {tagCount: 42, scanTime: "2026-01-02T03:04:05Z"}
  conditions:
  - {type: Ready, status: "True", reason: Succeeded, message: "successful scan, found 42 tags"}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: podinfo, namespace: flux-system, generation: 1}
spec: {imageRepositoryRef: {name: podinfo}, policy: {semver: {range: 6.x}}}
status:
  observedGeneration: 1
  latestRef: {name: ghcr.io/stefanprodan/podinfo, tag: 6.5.0, digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
  conditions:
  - {type: Ready, status: "True", reason: Succeeded, message: "Latest image tag for 'ghcr.io/stefanprodan/podinfo' resolved to 6.5.0"}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {name: flux-system, namespace: flux-system, generation: 2}
spec: {interval: 30m, suspend: true, sourceRef: {kind: GitRepository, name: flux-system}}
status:
  observedGeneration: 2
  lastAutomationRunTime: "2026-01-02T03:05:00Z"
  conditions:
  - {type: Ready, status: "False", reason: GitOperationFailed, message: "unable to clone"}
`

// TestGetImagesTable renders image objects as flux get images prints them.
func TestGetImagesTable(t *testing.T) {
	var b bytes.Buffer
	for _, doc := range bytes.Split([]byte(imageTableObjects), []byte("\n---\n")) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		for _, all := range []bool{false, true} {
			if err := renderTable(&b, getHeader(u.GetKind(), all), [][]string{getRow(u, all, false)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	golden.Assert(t, "get-images-table", b.String())
}
