package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"
)

// copyTree copies testdata/<dir> into a new temporary directory.
func copyTree(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", dir)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestMigrateFiles rewrites deprecated API versions in manifests, keeping everything else
// (comments, quoting, other objects, files of other extensions).
func TestMigrateFiles(t *testing.T) {
	kc := missingKubeconfig(t)
	dir := copyTree(t, "migrate")
	apps := filepath.Join(dir, "clusters", "apps.yaml")
	before, _ := os.ReadFile(apps)

	r := runFlux(t, "", "migrate", "-f", dir, "--dry-run", kc)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	wants(t, "dry run", r.stderr, "► starting migration of custom resources\n",
		"✚ "+apps+":2: GitRepository v1beta2 -> v1\n", "✚ "+apps+":11: Kustomization v1beta2 -> v1\n",
		"✚ "+apps+":26: ImagePolicy v1beta2 -> v1\n", "✔ dry-run mode enabled, no changes will be made\n")
	if after, _ := os.ReadFile(apps); string(after) != string(before) {
		t.Fatal("--dry-run changed the file")
	}
	r = runFlux(t, "n\n", "migrate", "-f", dir, kc)
	if r.code != 1 || !strings.Contains(r.stderr, "✗ migration cancelled") {
		t.Fatalf("declined: exit %d\n%s", r.code, r.stderr)
	}
	r = runFlux(t, "y\n", "migrate", "-f", dir, kc)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	wants(t, "migrate", r.stderr, "Are you sure you want to proceed with the above upgrades? [y/N] ",
		"✔ file "+apps+" migrated successfully\n", "✔ custom resources migrated successfully\n")
	after, _ := os.ReadFile(apps)
	golden.Assert(t, "migrate-apps", string(after))
	if fi, _ := os.Stat(apps); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	r = runFlux(t, "", "migrate", "-f", dir, "--yes", kc)
	wants(t, "second run", r.stderr, "✔ no custom resources found that require migration\n")

	// Flux 2.6 kept the image kinds at v1beta2; templates are read with --extensions.
	dir = copyTree(t, "migrate")
	r = runFlux(t, "", "migrate", "-f", dir, "--version=2.6", "--extensions=.yaml,.tpl", "--yes", kc)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "ImagePolicy") || !strings.Contains(r.stderr, "template.tpl:1: Alert v1beta2 -> v1beta3") {
		t.Errorf("--version=2.6 --extensions:\n%s", r.stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", dir, "--version=1.9"}, "✗ version 1.9 is not supported, supported versions are: 2.6, 2.7"},
		{[]string{"-f", filepath.Join(dir, "missing")}, "✗ failed to stat path"},
		{[]string{"-f", filepath.Join(dir, "clusters", "template.tpl")}, "does not match the specified extensions"},
	} {
		r := runFlux(t, "", append(append([]string{"migrate"}, tt.args...), kc)...)
		if r.code != 1 {
			t.Errorf("%v: exit %d", tt.args, r.code)
		}
		wants(t, strings.Join(tt.args, " "), r.stderr, tt.want)
	}
}
