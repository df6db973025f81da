package tarball

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name  string
		ents  []ent
		plain bool                                     // plain tar instead of gzip
		opts  ExtractOptions                           //
		setup func(t *testing.T, dest, outside string) // prepares dest before extracting
		err   string                                   // expected error substring, "" for success
		want  map[string]treeEntry                     // expected tree (checked when non-nil)
	}{
		{
			name: "regular tree with modes normalised",
			ents: []ent{
				dirEnt("d/"),
				{typ: tar.TypeReg, name: "d/run.sh", body: "#!/bin/sh", mode: 0o700},
				{typ: tar.TypeReg, name: "d/secret", body: "s", mode: 0o600},
				{typ: tar.TypeDir, name: "private/", mode: 0o700},
				file("implicit/parent/f", "f"),
				symlink("d/link", "run.sh"),
			},
			want: map[string]treeEntry{
				"d":                 {mode: fs.ModeDir | 0o755},
				"d/run.sh":          {mode: 0o755, body: "#!/bin/sh"},
				"d/secret":          {mode: 0o644, body: "s"},
				"d/link":            {mode: fs.ModeSymlink | 0o777, body: "run.sh"},
				"private":           {mode: fs.ModeDir | 0o755},
				"implicit":          {mode: fs.ModeDir | 0o755},
				"implicit/parent":   {mode: fs.ModeDir | 0o755},
				"implicit/parent/f": {mode: 0o644, body: "f"},
			},
		},
		{
			name:  "plain tar is accepted",
			plain: true,
			ents:  []ent{file("a", "A"), file("./b/c", "C")},
			want: map[string]treeEntry{
				"a":   {mode: 0o644, body: "A"},
				"b":   {mode: fs.ModeDir | 0o755},
				"b/c": {mode: 0o644, body: "C"},
			},
		},
		{
			name: "dot-dot entry is rejected",
			ents: []ent{file("../evil", "x")},
			err:  `tar entry "../evil": path contains ".."`,
		},
		{
			name: "dot-dot in the middle is rejected",
			ents: []ent{file("a/../../evil", "x")},
			err:  `tar entry "a/../../evil": path contains ".."`,
		},
		{
			name: "absolute path is rejected",
			ents: []ent{file("/tmp/evil", "x")},
			err:  `tar entry "/tmp/evil": absolute path`,
		},
		{
			name: "absolute symlink is rejected",
			ents: []ent{symlink("a", "/etc"), file("a/passwd", "x")},
			err:  `tar entry "a": symlink target "/etc"`,
		},
		{
			name: "relative symlink out is rejected",
			ents: []ent{symlink("sub/a", "../../outside"), file("sub/a/x", "x")},
			err:  `tar entry "sub/a": symlink target "../../outside" points outside`,
		},
		{
			name: "no write through an inside symlink",
			ents: []ent{dirEnt("real/"), symlink("a", "real"), file("a/x", "x")},
			err:  "a is a symlink, refusing to write through it",
		},
		{
			name: "symlink escaping through another symlink is removed",
			ents: []ent{symlink("a", "b/.."), symlink("b", ".")},
			err:  `tar entry "a": symlink resolves outside the destination`,
			want: map[string]treeEntry{"b": {mode: fs.ModeSymlink | 0o777, body: "."}},
		},
		{
			name: "escaping symlink is removed when a later entry fails",
			ents: []ent{symlink("b", "."), symlink("a", "b/.."), file("../x", "x")},
			err:  `tar entry "../x": path contains ".."`,
			want: map[string]treeEntry{"b": {mode: fs.ModeSymlink | 0o777, body: "."}},
		},
		{
			name: "file replaces an earlier symlink instead of writing through it",
			ents: []ent{file("target", "orig"), symlink("a", "target"), file("a", "new")},
			want: map[string]treeEntry{
				"target": {mode: 0o644, body: "orig"},
				"a":      {mode: 0o644, body: "new"},
			},
		},
		{
			name: "pre-existing symlink in the destination is not followed",
			setup: func(t *testing.T, dest, outside string) {
				if err := os.Symlink(outside, filepath.Join(dest, "pre")); err != nil {
					t.Fatal(err)
				}
			},
			ents: []ent{file("pre/x", "x")},
			err:  "pre is a symlink, refusing to write through it",
		},
		{
			name: "devices and fifos are dropped",
			ents: []ent{
				{typ: tar.TypeChar, name: "tty", mode: 0o666},
				{typ: tar.TypeBlock, name: "sda", mode: 0o666},
				{typ: tar.TypeFifo, name: "fifo", mode: 0o666},
				file("keep", "k"),
			},
			want: map[string]treeEntry{"keep": {mode: 0o644, body: "k"}},
		},
		{
			name: "hard link becomes a copy",
			ents: []ent{file("a", "content"), {typ: tar.TypeLink, name: "b", link: "a"}},
			want: map[string]treeEntry{
				"a": {mode: 0o644, body: "content"},
				"b": {mode: 0o644, body: "content"},
			},
		},
		{
			name: "hard link outside is rejected",
			ents: []ent{{typ: tar.TypeLink, name: "b", link: "/etc/passwd"}},
			err:  `tar entry "b": hard link target "/etc/passwd"`,
		},
		{
			name: "hard link to a non-extracted file is rejected",
			ents: []ent{{typ: tar.TypeLink, name: "b", link: "missing"}},
			err:  `hard link target "missing" is not a file extracted earlier`,
		},
		{
			name: "file replacing a directory is rejected",
			ents: []ent{dirEnt("d/"), file("d", "x")},
			err:  `tar entry "d": d is a directory`,
		},
		{
			name: "total size limit",
			opts: ExtractOptions{MaxSize: 10},
			ents: []ent{file("a", "123456"), file("b", "123456")},
			err:  "exceeds the size limit of 10 bytes",
		},
		{
			name: "file size limit",
			opts: ExtractOptions{MaxFileSize: 5},
			ents: []ent{file("a", "123456")},
			err:  `tar entry "a": size 6 exceeds the file size limit of 5 bytes`,
		},
		{
			name: "file count limit",
			opts: ExtractOptions{MaxFiles: 2},
			ents: []ent{file("a", ""), file("b", ""), file("c", "")},
			err:  "more than 2 entries",
		},
		{
			name: "limits that fit",
			opts: ExtractOptions{MaxFiles: 2, MaxSize: 4, MaxFileSize: 2},
			ents: []ent{file("a", "12"), file("b", "34")},
			want: map[string]treeEntry{"a": {mode: 0o644, body: "12"}, "b": {mode: 0o644, body: "34"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			outside := filepath.Join(parent, "outside")
			for _, d := range []string{dest, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			var setupTree map[string]treeEntry
			if tc.setup != nil {
				tc.setup(t, dest, outside)
				setupTree = snapshot(t, dest)
			}
			err := Extract(bytes.NewReader(buildTar(!tc.plain, tc.ents...)), dest, tc.opts)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("expected error containing %q, got none", tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("error %q does not contain %q", err, tc.err)
			}
			assertOutsideUntouched(t, parent)
			if tc.want != nil {
				assertTree(t, snapshot(t, dest), tc.want)
			}
			if setupTree != nil {
				got := snapshot(t, dest)
				for k, v := range setupTree {
					if got[k] != v {
						t.Errorf("pre-existing %s changed: %+v -> %+v", k, v, got[k])
					}
				}
			}
		})
	}
}

// assertOutsideUntouched checks that only dest and outside/secret exist in parent.
func assertOutsideUntouched(t *testing.T, parent string) {
	t.Helper()
	got := snapshot(t, filepath.Join(parent, "outside"))
	if len(got) != 1 || got["secret"].body != "keep" {
		t.Errorf("outside directory changed: %+v", got)
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "dest" && e.Name() != "outside" {
			t.Errorf("unexpected %s created next to the destination", e.Name())
		}
	}
}

func assertTree(t *testing.T, got, want map[string]treeEntry) {
	t.Helper()
	for _, k := range sortedKeys(want) {
		if got[k] != want[k] {
			t.Errorf("%s: got %v %q, want %v %q", k, got[k].mode, got[k].body, want[k].mode, want[k].body)
		}
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s (%v)", k, got[k].mode)
		}
	}
}

func TestExtractTruncated(t *testing.T) {
	data := buildTar(false, file("a", strings.Repeat("x", 4096)))
	err := Extract(bytes.NewReader(data[:1024]), t.TempDir(), ExtractOptions{})
	if err == nil || !strings.Contains(err.Error(), `tar entry "a"`) {
		t.Fatalf("expected an error naming the truncated entry, got %v", err)
	}
}

func TestExtractGzipBomb(t *testing.T) {
	// 64 MiB of zeros compresses to ~64 KiB; the limit must stop it long before the end.
	big := ent{typ: tar.TypeReg, name: "zeros", body: string(make([]byte, 64<<20)), mode: 0o644}
	data := buildTar(true, big)
	dest := t.TempDir()
	err := Extract(bytes.NewReader(data), dest, ExtractOptions{MaxSize: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "size limit of 1048576 bytes") {
		t.Fatalf("expected the size limit error, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "zeros")); err == nil {
		t.Fatal("the oversized file was written")
	}
}
