package app

import (
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"

	"gotk.dev/cli/pkg/manifests"
)

// TestInstallExport compares `flux install --export` with golden files. The CRD documents
// are reduced to their metadata first: their schemas come from `make generate` (and are
// checked by crd-compat), so a new API field must not churn these files; what the install
// options change is all kept. Run `go test -run TestInstallExport -update` to refresh them.
// No kubeconfig exists: --export must not touch a cluster.
func TestInstallExport(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "default", args: nil},
		{name: "components-extra-namespace-registry", args: []string{
			"--components=source-controller,kustomize-controller",
			"--components-extra=image-reflector-controller,image-automation-controller",
			"--namespace=gitops", "--registry=registry.example.com:5000/mirror", "--version=v1.2.3",
		}},
		{name: "policies-flags-tolerations", args: []string{
			"--components=source-controller,kustomize-controller,helm-controller",
			"--network-policy=false", "--watch-all-namespaces=false", "--log-level=debug",
			"--cluster-domain=k8s.example", "--toleration-keys=dedicated,node-role.kubernetes.io/infra",
			"--image-pull-secret=regcred", "--version=v1.2.3",
		}},
		{name: "shards", args: []string{"--shards=shard1,shard2", "--version=v1.2.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"install", "--export", "--kubeconfig=" + filepath.Join(t.TempDir(), "missing")}, tt.args...)
			r := runFlux(t, "", args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			got := reduceCRDs(t, r.stdout)
			golden.Assert(t, "install-"+tt.name, got)
		})
	}
}

// reduceCRDs keeps the export's header and every object but replaces each CRD with just its
// apiVersion, kind and metadata; it also checks the output parses back into the objects.
func reduceCRDs(t *testing.T, export string) string {
	t.Helper()
	objs, err := manifests.Parse([]byte(export))
	if err != nil {
		t.Fatalf("export does not parse: %v", err)
	}
	header, _, _ := strings.Cut(strings.TrimPrefix(export, "---\n"), "---\n")
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" {
			for k := range u.Object {
				if k != "apiVersion" && k != "kind" && k != "metadata" {
					delete(u.Object, k)
				}
			}
		}
	}
	data, err := manifests.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	return "---\n" + header + string(data)
}

// TestInstallBadInput: wrong options fail before anything is generated or applied, with an
// error naming the flag and, for components, the valid values.
func TestInstallBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--components=source-controller,foo"}, `✗ unknown component "foo" in --components: valid components are source-controller, kustomize-controller, helm-controller, notification-controller, image-reflector-controller, image-automation-controller`},
		{[]string{"--components-extra=helm-controller"}, "valid extra components are image-reflector-controller, image-automation-controller"},
		{[]string{"--log-level=loud"}, `invalid --log-level "loud": must be one of trace, debug, info, error`},
		{[]string{"--namespace=Flux"}, `invalid --namespace "Flux"`},
		{[]string{"--registry=https://ghcr.io/x"}, "without a scheme"},
		{[]string{"--version=bad tag"}, `invalid --version "bad tag"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			// Not --export: validation must fail before any attempt to reach a cluster.
			r := runFlux(t, "", append([]string{"install", "--kubeconfig=" + filepath.Join(t.TempDir(), "missing")}, tt.args...)...)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
			}
			wants(t, "stderr", r.stderr, tt.want)
			if strings.Contains(r.stderr, "kubeconfig") || strings.Contains(r.stderr, "generating") {
				t.Errorf("got past validation:\n%s", r.stderr)
			}
		})
	}
}
