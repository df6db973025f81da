package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"
	"gotk.dev/internal/testing/registry"
	"gotk.dev/pkg/tarball"
)

// TestBuildDiffArtifact builds artifacts locally and diffs a local directory against an
// artifact pushed to a real registry.
func TestBuildDiffArtifact(t *testing.T) {
	reg, err := registry.Start(registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	kc := missingKubeconfig(t)
	url := "oci://" + reg.Host() + "/apps/diff:v1"
	src := t.TempDir()
	files := map[string]string{
		"app.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {v: \"1\"}\n",
		"sub/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		".git/HEAD":  "ref: refs/heads/main\n",
		"logo.png":   "not really a png\n",
	}
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(t *testing.T, code int, stdin string, args ...string) result {
		t.Helper()
		r := runFlux(t, stdin, append(args, kc)...)
		if r.code != code {
			t.Fatalf("flux %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, code, r.stderr)
		}
		return r
	}

	t.Run("build a directory", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "artifact.tgz")
		r := run(t, 0, "", "build", "artifact", "--path", src, "--output", out)
		wants(t, "stderr", r.stderr, "► building artifact from "+src+"\n", "✔ artifact created at "+out+"\n")
		if got := tarballFiles(t, out); got != "app.yaml sub/x.yaml" {
			t.Errorf("artifact holds %q (the VCS and media files must be left out)", got)
		}
		again := filepath.Join(t.TempDir(), "again.tgz")
		run(t, 0, "", "build", "artifact", "-p", src, "-o", again)
		a, _ := os.ReadFile(out)
		b, _ := os.ReadFile(again)
		if !bytes.Equal(a, b) {
			t.Error("two builds of the same tree differ")
		}
	})
	t.Run("build one file and stdin", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "one.tgz")
		run(t, 0, "", "build", "artifact", "--path", filepath.Join(src, "sub", "x.yaml"), "--output", out)
		if got := tarballFiles(t, out); got != "x.yaml" {
			t.Errorf("single-file artifact holds %q", got)
		}
		run(t, 0, files["app.yaml"]+"\n\n", "build", "artifact", "--path", "-", "--output", out)
		if got := tarballFiles(t, out); !strings.HasSuffix(got, ".yaml") || strings.Contains(got, " ") {
			t.Errorf("stdin artifact holds %q", got)
		}
	})

	run(t, 0, "", "push", "artifact", url, "--path", src, "--source", "s", "--revision", "r", "--ignore-paths", ".git,*.png")
	t.Run("diff without changes", func(t *testing.T) {
		r := run(t, 0, "", "diff", "artifact", url, "--path", src)
		if r.stdout != "" || !strings.Contains(r.stderr, "✔ no changes detected") {
			t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
		}
	})
	t.Run("diff with changes", func(t *testing.T) {
		changed := t.TempDir()
		for name, content := range map[string]string{
			"app.yaml": strings.Replace(files["app.yaml"], `"1"`, `"2"`, 1),
			"new.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: new}\n",
		} {
			if err := os.WriteFile(filepath.Join(changed, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r := run(t, 1, "", "diff", "artifact", url, "--path", changed)
		wants(t, "stderr", r.stderr, "✚ app.yaml changed\n✚ new.yaml added\n✚ sub/x.yaml removed\n")
		golden.Assert(t, "diff-artifact", r.stdout)
	})
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"build without path", []string{"build", "artifact"}, `invalid path ""`},
		{"build of a missing path", []string{"build", "artifact", "--path", filepath.Join(src, "nope")}, "must point to an existing directory or file"},
		{"diff without URL", []string{"diff", "artifact", "--path", src}, "artifact URL is required"},
		{"diff without path", []string{"diff", "artifact", url}, `invalid path ""`},
		{"diff of a missing tag", []string{"diff", "artifact", "oci://" + reg.Host() + "/apps/diff:nope", "--path", src}, "nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, 1, "", tt.args...)
			wants(t, "stderr", r.stderr, "✗ ", tt.want)
		})
	}
}

// tarballFiles lists the regular files of a .tgz, space separated in path order.
func tarballFiles(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	if err := tarball.Extract(f, dir, tarball.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return strings.Join(out, " ")
}
