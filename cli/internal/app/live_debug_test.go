package app

import (
	"regexp"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"
)

// stats counts the live fleet's objects by kind and status: the broken Kustomization in
// staging fails, and the sources store artifacts.
func (lc *liveCase) stats(t *testing.T) {
	r := lc.run(t, 0, "stats", "-A")
	sizes := regexp.MustCompile(`\d+(\.\d+)? (B|KiB|MiB)`)
	// Artifact sizes differ between runs, and so does the padding of their column.
	padding := regexp.MustCompile(` +\t`)
	golden.Assert(t, "stats-all", padding.ReplaceAllString(sizes.ReplaceAllString(r.stdout, "<size>"), "\t"))
	r = lc.run(t, 0, "stats", "-n", "staging")
	wants(t, "stats -n staging", r.stdout, "Kustomization        \t1      \t1      \t0        \t-      \t\n")
}

// debugKustomization prints the status and the post-build variables of the apps
// Kustomization (its substituteFrom ConfigMap holds CLUSTER_NAME).
func (lc *liveCase) debugKustomization(t *testing.T) {
	r := lc.run(t, 0, "debug", "kustomization", "apps", "--show-vars")
	if r.stdout != "CLUSTER_NAME=dev-1\n" {
		t.Errorf("--show-vars = %q", r.stdout)
	}
	r = lc.run(t, 0, "debug", "ks", "apps", "--show-status")
	wants(t, "--show-status", r.stdout, "conditions:\n", "type: Ready\n", "lastAppliedRevision: main@sha1:", "inventory:\n")
	r = lc.run(t, 0, "debug", "ks", "root", "--show-vars")
	if r.stdout != "" {
		t.Errorf("a Kustomization without postBuild printed %q", r.stdout)
	}
	r = lc.run(t, 1, "debug", "ks", "apps")
	wants(t, "stderr", r.stderr, "✗ either --show-status or --show-vars must be set")
	r = lc.run(t, 1, "debug", "ks", "nope", "--show-vars")
	wants(t, "stderr", r.stderr, "✗ Kustomization flux-system/nope not found")
	if strings.Contains(r.stderr, "panic") {
		t.Error(r.stderr)
	}
}
