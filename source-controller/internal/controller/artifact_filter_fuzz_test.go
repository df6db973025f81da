package controller

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzArtifactFilterSymlinks gives a checked-out tree two symlinks with fuzzed targets (the
// second may lead through the first) and checks the artifact filter against the real file
// system: a link it keeps never resolves outside the tree, and a link it drops is named in
// the report that becomes the Ready message.
func FuzzArtifactFilterSymlinks(f *testing.F) {
	for _, seed := range [][2]string{
		{"deploy", "../a/app.yaml"},
		{".", "../a/.."},
		{"/etc", "../a"},
		{"../../x", "app.yaml"},
		{"deploy/../..", "../../deploy"},
		{"deploy/app.yaml", "b"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, targetA, targetB string) {
		if targetA == "" || targetB == "" || strings.ContainsRune(targetA+targetB, 0) || len(targetA)+len(targetB) > 512 {
			t.Skip()
		}
		root := filepath.Join(t.TempDir(), "src")
		if err := os.MkdirAll(filepath.Join(root, "deploy"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "deploy", "app.yaml"), []byte("app"), 0o644); err != nil {
			t.Fatal(err)
		}
		links := map[string]string{"a": targetA, "deploy/b": targetB}
		for rel, target := range links {
			if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(rel))); err != nil {
				t.Skip()
			}
		}
		filter, report, err := newArtifactFilter(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		realRoot, err := filepath.EvalSymlinks(root)
		if err != nil {
			t.Fatal(err)
		}
		for rel := range links {
			abs := filepath.Join(root, filepath.FromSlash(rel))
			fi, err := os.Lstat(abs)
			if err != nil {
				t.Fatal(err)
			}
			kept := filter(rel, fs.FileInfoToDirEntry(fi))
			if !kept {
				if !slices.Contains(report.skipped, rel) {
					t.Errorf("link %s -> %q left out without being reported (report: %v)", rel, links[rel], report.skipped)
				}
				continue
			}
			if resolved, err := filepath.EvalSymlinks(abs); err == nil && !within(realRoot, resolved) {
				t.Errorf("link %s -> %q kept, but resolves to %s outside %s", rel, links[rel], resolved, realRoot)
			}
		}
	})
}

// FuzzValidateIncludePath checks that every include path validateIncludePath accepts stays
// inside the directory it is joined to, as copyIncludes joins it.
func FuzzValidateIncludePath(f *testing.F) {
	for _, seed := range []string{"", "manifests", "a/b/", "..", "../..", "a/../..", "./../x", "/etc", "a/..", `..\x`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if validateIncludePath(p) != nil {
			return
		}
		root := filepath.Join(string(filepath.Separator), "work", "repo")
		if joined := filepath.Join(root, filepath.FromSlash(p)); !within(root, joined) {
			t.Errorf("include path %q accepted, but it leads to %s outside %s", p, joined, root)
		}
	})
}
