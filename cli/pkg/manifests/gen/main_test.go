package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/cli/pkg/manifests"
)

// manifestsDir is manifests/ at the repository root (the directory holding go.work).
func manifestsDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return filepath.Join(dir, "manifests")
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.work above the test directory")
		}
		dir = filepath.Dir(dir)
	}
}

// TestBundleUpToDate fails when manifests/ changed without `make generate-manifests`: the
// CLI would install something else than manifests/ describes.
func TestBundleUpToDate(t *testing.T) {
	data, err := render(manifestsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, manifests.Bundle()) {
		t.Fatal("cli/pkg/manifests/install.yaml is stale: run `make generate-manifests` and commit it")
	}
}

func TestRenderErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := render(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "install")) {
		t.Fatalf("want an error naming %s/install, got %v", dir, err)
	}
}

func TestWriteAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "install.yaml")
	for _, content := range []string{"one", "two", "two"} {
		if err := writeAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Fatalf("file holds %q, want %q", got, content)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}
