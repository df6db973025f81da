package kustomize

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSecureFS covers the FileSystem methods kustomize does not exercise in the build tests:
// listing, globbing and walking stay inside root and include overlay files; writes fail.
func TestSecureFS(t *testing.T) {
	root, outside := securityTree(t, map[string]string{
		"a/one.yaml":      cm,
		"a/.hidden.yaml":  cm,
		"a/b/two.yaml":    cm,
		"a/out":           "symlink:../../outside",
		"a/in.yaml":       "symlink:b/two.yaml",
		"kustomization.x": "x",
	})
	f, err := newSecureFS(root, false)
	if err != nil {
		t.Fatal(err)
	}
	virtual := filepath.Join(f.root, "a", "kustomization.yaml")
	f.overlay[virtual] = []byte("resources: []\n")
	a := filepath.Join(f.root, "a")

	names, err := f.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".hidden.yaml", "b", "in.yaml", "kustomization.yaml", "one.yaml", "out"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ReadDir = %v, want %v", names, want)
	}

	matches, err := f.Glob(filepath.Join(a, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(a, "in.yaml"), virtual, filepath.Join(a, "one.yaml")}
	if !reflect.DeepEqual(matches, want) {
		t.Errorf("Glob = %v, want %v", matches, want)
	}
	if m, _ := f.Glob(filepath.Join(a, "out", "*")); len(m) != 0 {
		t.Errorf("Glob listed a directory outside root: %v", m)
	}
	if _, err := f.Glob(filepath.Join(outside, "*")); err == nil {
		t.Error("Glob outside root succeeded")
	}

	var walked []string
	err = f.Walk(a, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		walked = append(walked, f.rel(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "a/.hidden.yaml", "a/b", "a/b/two.yaml", "a/in.yaml", "a/kustomization.yaml", "a/one.yaml", "a/out"}; !reflect.DeepEqual(walked, want) {
		t.Errorf("Walk = %v, want %v", walked, want)
	}

	for p, want := range map[string]bool{a: true, filepath.Join(a, "out"): false, virtual: false, filepath.Join(a, "nope"): false} {
		if got := f.IsDir(p); got != want {
			t.Errorf("IsDir(%s) = %v, want %v", f.rel(p), got, want)
		}
	}
	if !f.Exists(virtual) || !f.Exists(filepath.Join(a, "in.yaml")) || f.Exists(filepath.Join(a, "out", "secret.txt")) {
		t.Error("Exists disagrees with the tree")
	}

	file, err := f.Open(virtual)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(file)
	if info, _ := file.Stat(); string(data) != "resources: []\n" || info.Size() != int64(len(data)) {
		t.Errorf("Open(overlay) = %q", data)
	}
	if _, err := f.Open(filepath.Join(a, "out", "secret.txt")); !errors.Is(err, errOutsideRoot) {
		t.Errorf("Open through a symlink out: %v", err)
	}
	if d, name, err := f.CleanedAbs(filepath.Join(a, "in.yaml")); err != nil || string(d) != filepath.Join(a, "b") || name != "two.yaml" {
		t.Errorf("CleanedAbs(in.yaml) = %s, %s, %v", d, name, err)
	}
	if _, err := f.ReadFile("../outside/secret.txt"); !errors.Is(err, errOutsideRoot) {
		t.Errorf("relative path is read from the root: %v", err)
	}

	for name, op := range map[string]func() error{
		"WriteFile":         func() error { return f.WriteFile(filepath.Join(a, "new.yaml"), nil) },
		"Create":            func() error { _, err := f.Create(filepath.Join(a, "new.yaml")); return err },
		"Mkdir":             func() error { return f.Mkdir(filepath.Join(a, "new")) },
		"MkdirAll":          func() error { return f.MkdirAll(filepath.Join(a, "new", "x")) },
		"RemoveAll":         func() error { return f.RemoveAll(a) },
		"RemoveAll outside": func() error { return f.RemoveAll(outside) },
	} {
		if err := op(); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s: %v, want read-only refusal", name, err)
		}
	}
	if _, err := os.Stat(a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatal(err)
	}
}
