package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"gotk.dev/internal/testing/golden"
)

// sourceWatcher runs get, export and tree of source-watcher's kinds (ExternalArtifact,
// ArtifactGenerator) against the live cluster, their CRDs installed by the test.
func (lc *liveCase) sourceWatcher(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "source-watcher", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if _, err := lc.env.Apply(ctx, read("crds.yaml")); err != nil {
		t.Fatal(err)
	}
	objects := read("objects.yaml")
	// A new CRD takes a moment to be served.
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := lc.env.Apply(ctx, objects)
		return err == nil, nil
	}); err != nil {
		t.Fatalf("source-watcher objects never applied: %v", err)
	}

	golden.Assert(t, "get-sources-external", lc.run(t, 0, "get", "sources", "external").stdout)
	golden.Assert(t, "get-artifact-generators", lc.run(t, 0, "get", "artifacts", "generators").stdout)
	if r := lc.run(t, 0, "get", "artifact", "generator", "paused", "--no-header"); len(strings.Fields(r.stdout)) < 2 || strings.Fields(r.stdout)[1] != "True" {
		t.Errorf("a disabled generator shows as suspended:\n%s", r.stdout)
	}
	r := lc.run(t, 0, "get", "sources", "external", "-A")
	wants(t, "get -A", r.stdout, "NAMESPACE  \tNAME", "flux-system\tnetworking")
	golden.Assert(t, "tree-artifact-generator", lc.run(t, 0, "tree", "artifact", "generator", "platform").stdout)
	r = lc.run(t, 0, "tree", "artifact", "generator", "platform", "-o", "json")
	wants(t, "tree -o json", r.stdout, `"Kind": "ArtifactGenerator"`, `"Name": "dns"`)
	golden.Assert(t, "export-artifact-generator", lc.run(t, 0, "export", "artifact", "generator", "platform").stdout)
	r = lc.run(t, 0, "export", "source", "external", "--all")
	wants(t, "export source external", r.stdout, "kind: ExternalArtifact\n", "name: networking\n")
	if strings.Contains(r.stdout, "status:") {
		t.Errorf("export kept the status:\n%s", r.stdout)
	}

	complete := func(args ...string) string {
		t.Helper()
		// The word being completed comes last: the kubeconfig goes before it.
		args = append(append([]string{"__complete"}, args[:len(args)-1]...), lc.kc, args[len(args)-1])
		r := runFlux(t, "", args...)
		if r.code != 0 {
			t.Fatalf("flux %v: exit %d\n%s", args, r.code, r.stderr)
		}
		return r.stdout
	}
	completions := []struct {
		args []string
		want string
	}{
		{[]string{"get", "artifacts", "generators", "p"}, "paused\nplatform\n:4\n"},
		{[]string{"tree", "artifact", "generator", "pl"}, "platform\n:4\n"},
		{[]string{"export", "source", "external", ""}, "networking\n:4\n"},
		{[]string{"reconcile", "ks", "ro"}, "root\n:4\n"},
		{[]string{"debug", "kustomization", "ro"}, "root\n:4\n"},
		{[]string{"get", "sources", "git", "-n", "staging", ""}, "fleet\n:4\n"},
		{[]string{"get", "sources", "git", "fleet", ""}, ":4\n"}, // takes one name
		{[]string{"suspend", "source", "git", "nothing-like-it"}, ":4\n"},
	}
	for _, tc := range completions {
		if got := complete(tc.args...); !strings.HasPrefix(got, tc.want) {
			t.Errorf("completion of %v: %q, want %q", tc.args, got, tc.want)
		}
	}

	r = lc.run(t, 1, "tree", "artifact", "generator", "nope")
	wants(t, "stderr", r.stderr, "✗ ArtifactGenerator flux-system/nope not found")
	r = lc.run(t, 1, "get", "sources", "external", "nope")
	wants(t, "stderr", r.stderr, "nope not found")
	r = lc.run(t, 1, "tree", "artifact", "generator", "platform", "-o", "table")
	wants(t, "stderr", r.stderr, `✗ invalid --output "table": can be 'json' or 'yaml'`)
}
