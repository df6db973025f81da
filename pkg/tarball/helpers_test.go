package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// ent describes one tar entry for hand-built (possibly malicious) tarballs.
type ent struct {
	typ  byte
	name string
	link string
	body string
	mode int64
}

func file(name, body string) ent      { return ent{typ: tar.TypeReg, name: name, body: body, mode: 0o644} }
func dirEnt(name string) ent          { return ent{typ: tar.TypeDir, name: name, mode: 0o755} }
func symlink(name, target string) ent { return ent{typ: tar.TypeSymlink, name: name, link: target} }

// buildTar writes ents as a tarball, gzipped when gz is set. Headers the tar writer refuses
// are skipped, so fuzz scripts can name anything.
func buildTar(gz bool, ents ...ent) []byte {
	var buf bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	for _, e := range ents {
		h := &tar.Header{Typeflag: e.typ, Name: e.name, Linkname: e.link, Mode: e.mode, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			continue
		}
		if h.Size > 0 {
			_, _ = tw.Write([]byte(e.body))
		}
	}
	_ = tw.Close()
	if zw != nil {
		_ = zw.Close()
	}
	return buf.Bytes()
}

// treeEntry is what snapshot records about one path.
type treeEntry struct {
	mode fs.FileMode
	body string // file content or link target
}

// snapshot records every path under root (slash separated, relative) with type, permission
// bits and content, to compare trees.
func snapshot(t *testing.T, root string) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := treeEntry{mode: fi.Mode()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.body, err = os.Readlink(p)
		case fi.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(p)
			e.body = string(b)
		}
		out[filepath.ToSlash(rel)] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// mkTree creates files from a map of slash path -> content; a content starting with "->"
// makes a symlink to the rest, a path ending in "/" makes a directory, "x:" an executable.
func mkTree(t testing.TB, root string, tree map[string]string) {
	t.Helper()
	for _, name := range sortedKeys(tree) {
		body := tree[name]
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(body, "->"):
			err = os.Symlink(strings.TrimPrefix(body, "->"), p)
		case strings.HasPrefix(body, "x:"):
			err = os.WriteFile(p, []byte(strings.TrimPrefix(body, "x:")), 0o755)
		default:
			err = os.WriteFile(p, []byte(body), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
