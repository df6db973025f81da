package tarball

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sampleTree is a source tree with the cases Write must handle.
func sampleTree() map[string]string {
	return map[string]string{
		"README.md":               "hello",
		"apps/base/deploy.yaml":   "kind: Deployment",
		"apps/base/kustomization": "resources: [deploy.yaml]",
		"apps/prod/":              "",
		"bin/run.sh":              "x:#!/bin/sh\necho hi",
		"links/inside":            "->../README.md",
		"links/dir":               "->../apps",
		"links/outside":           "->../../etc/passwd",
		"links/absolute":          "->/etc/passwd",
		"links/dot":               "->.",
		"links/sneaky":            "->dot/../..", // lexically inside, really the parent of root
		"links/loop":              "->loop",
		"z/deep/er/file":          "deep",
	}
}

func writeBytes(t testing.TB, root string, filter Filter) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, root, filter); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteIsDeterministic(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a")
	b := filepath.Join(t.TempDir(), "somewhere", "else")
	mkTree(t, a, sampleTree())
	first := writeBytes(t, a, nil)
	if second := writeBytes(t, a, nil); !bytes.Equal(first, second) {
		t.Fatal("writing the same tree twice gave different bytes")
	}
	// The same content elsewhere, created later, with other times and a umask-like mode
	// difference on a non-executable file, must give the same bytes.
	time.Sleep(10 * time.Millisecond)
	mkTree(t, b, sampleTree())
	if err := os.Chmod(filepath.Join(b, "README.md"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(b, "apps/base/deploy.yaml"), old, old); err != nil {
		t.Fatal(err)
	}
	if other := writeBytes(t, b, nil); !bytes.Equal(first, other) {
		t.Fatal("the same content in another place gave different bytes")
	}
	// And a content change must change the bytes.
	if err := os.WriteFile(filepath.Join(b, "README.md"), []byte("hellO"), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed := writeBytes(t, b, nil); bytes.Equal(first, changed) {
		t.Fatal("a content change did not change the tarball")
	}
}

func TestWriteRoundTrip(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, sampleTree())
	data := writeBytes(t, src, nil)
	dest := t.TempDir()
	if err := Extract(bytes.NewReader(data), dest, ExtractOptions{MaxSize: 1 << 20, MaxFiles: 100}); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, dest)
	want := snapshot(t, src)
	// Links that leave the root, are absolute or loop are dropped by Write.
	for _, dropped := range []string{"links/outside", "links/absolute", "links/sneaky", "links/loop"} {
		if _, ok := got[dropped]; ok {
			t.Errorf("%s should have been dropped", dropped)
		}
		delete(want, dropped)
	}
	for k, w := range want {
		g := got[k]
		if w.mode.Type() != g.mode.Type() || w.body != g.body {
			t.Errorf("%s: got %v %q, want %v %q", k, g.mode, g.body, w.mode, w.body)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d: %v", len(got), len(want), sortedKeys(got))
	}
	if got["bin/run.sh"].mode != 0o755 || got["README.md"].mode != 0o644 {
		t.Errorf("modes not kept: run.sh %v README.md %v", got["bin/run.sh"].mode, got["README.md"].mode)
	}
	if again := writeBytes(t, dest, nil); !bytes.Equal(data, again) {
		t.Fatal("writing the extracted tree gave different bytes")
	}
}

func TestWriteFilter(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{
		"keep.yaml":       "k",
		"skip.png":        "p",
		"vendor/a/b.yaml": "v",
		"sub/keep.yaml":   "k",
	})
	var seen []string
	filter := func(rel string, d fs.DirEntry) bool {
		seen = append(seen, rel)
		return rel != "vendor" && !strings.HasSuffix(rel, ".png")
	}
	dest := t.TempDir()
	if err := Extract(bytes.NewReader(writeBytes(t, src, filter)), dest, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	assertTree(t, snapshot(t, dest), map[string]treeEntry{
		"keep.yaml":     {mode: 0o644, body: "k"},
		"sub":           {mode: fs.ModeDir | 0o755},
		"sub/keep.yaml": {mode: 0o644, body: "k"},
	})
	for _, s := range seen {
		if strings.HasPrefix(s, "vendor/") {
			t.Errorf("filter was asked about %s below an excluded directory", s)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, f, nil); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("writing a file root: %v", err)
	}
	if err := Write(&buf, filepath.Join(dir, "missing"), nil); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("writing a missing root: %v", err)
	}
}
