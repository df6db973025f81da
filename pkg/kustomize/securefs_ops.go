package kustomize

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// This file implements filesys.FileSystem on secureFS. Reads resolve through resolve();
// writes are refused (the tree is shared and read-only); RemoveAll is allowed only inside a
// remote-base clone dir so kustomize can clean up after itself.

var _ filesys.FileSystem = (*secureFS)(nil)

func (f *secureFS) readOnly(op, p string) error {
	return fmt.Errorf("%s '%s': the source tree is read-only during a build", op, f.rel(f.abs(p)))
}

// Create refuses: nothing is written during a build.
func (f *secureFS) Create(p string) (filesys.File, error) { return nil, f.readOnly("create", p) }

// Mkdir refuses: nothing is written during a build.
func (f *secureFS) Mkdir(p string) error { return f.readOnly("mkdir", p) }

// MkdirAll refuses: nothing is written during a build.
func (f *secureFS) MkdirAll(p string) error { return f.readOnly("mkdir", p) }

// WriteFile refuses: nothing is written during a build.
func (f *secureFS) WriteFile(p string, _ []byte) error { return f.readOnly("write", p) }

// RemoveAll removes a remote-base clone (kustomize's cleanup); anything else is refused.
func (f *secureFS) RemoveAll(p string) error {
	a := f.abs(p)
	jail, ok := f.jail(a)
	if !ok || jail == f.root || within(f.root, a) {
		return f.readOnly("remove", p)
	}
	return os.RemoveAll(a)
}

// Open opens a file for reading.
func (f *secureFS) Open(p string) (filesys.File, error) {
	r, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	if data, ok := f.overlay[r]; ok {
		return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: filepath.Base(r), size: int64(len(data))}}, nil
	}
	file, err := os.Open(r)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: f.rel(r), Err: unwrapPathError(err)}
	}
	return file, nil
}

// IsDir reports whether p resolves to a directory inside root.
func (f *secureFS) IsDir(p string) bool {
	_, dir, err := f.stat(p)
	return err == nil && dir
}

// Exists reports whether p resolves to something inside root.
func (f *secureFS) Exists(p string) bool {
	_, _, err := f.stat(p)
	return err == nil
}

// ReadDir lists a directory, overlay files included, sorted by name.
func (f *secureFS) ReadDir(p string) ([]string, error) {
	r, dir, err := f.stat(p)
	if err != nil {
		return nil, err
	}
	if !dir {
		return nil, fmt.Errorf("readdir '%s': not a directory", f.rel(r))
	}
	ents, err := os.ReadDir(r)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: f.rel(r), Err: unwrapPathError(err)}
	}
	seen := make(map[string]bool, len(ents))
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		seen[e.Name()] = true
		names = append(names, e.Name())
	}
	for o := range f.overlay {
		if filepath.Dir(o) == r && !seen[filepath.Base(o)] {
			names = append(names, filepath.Base(o))
		}
	}
	sort.Strings(names)
	return names, nil
}

// CleanedAbs splits p into a confirmed (symlink-free, inside root) directory and a file
// name, "" when p is itself a directory.
func (f *secureFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	r, dir, err := f.stat(p)
	if err != nil {
		return "", "", err
	}
	if dir {
		return filesys.ConfirmedDir(r), "", nil
	}
	return filesys.ConfirmedDir(filepath.Dir(r)), filepath.Base(r), nil
}

// Glob matches pattern inside root, expanding one component at a time through ReadDir so a
// symlinked directory pointing outside root is never listed. Hidden files are dropped unless
// the pattern asks for them, as kustomize's on-disk FS does.
func (f *secureFS) Glob(pattern string) ([]string, error) {
	pattern = f.abs(pattern)
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("glob '%s': %w", f.rel(pattern), err)
	}
	jail, ok := f.jail(pattern)
	if !ok {
		return nil, f.outside(pattern, "")
	}
	candidates := []string{jail}
	for _, c := range splitPath(strings.TrimPrefix(pattern, jail)) {
		var next []string
		for _, dir := range candidates {
			if !strings.ContainsAny(c, `*?[\`) {
				if f.Exists(filepath.Join(dir, c)) {
					next = append(next, filepath.Join(dir, c))
				}
				continue
			}
			names, err := f.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, n := range names {
				if ok, _ := filepath.Match(c, n); ok {
					next = append(next, filepath.Join(dir, n))
				}
			}
		}
		candidates = next
	}
	sort.Strings(candidates)
	if !filesys.IsHiddenFilePath(pattern) {
		candidates = filesys.RemoveHiddenFiles(candidates)
	}
	return candidates, nil
}

// ReadFile reads a file inside root. Kustomization files (and the generator/transformer
// configs they list) are scanned on the way through for remote references and absolute
// paths, because kustomize fetches remote content outside of any FileSystem.
func (f *secureFS) ReadFile(p string) ([]byte, error) {
	r, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	data, ok := f.overlay[r]
	if ok {
		data = bytes.Clone(data)
	} else {
		data, err = os.ReadFile(r)
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: f.rel(r), Err: unwrapPathError(err)}
		}
	}
	if err := f.inspect(f.abs(p), r, data); err != nil {
		return nil, err
	}
	if data, err = f.decryptSource(r, data); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.reads = append(f.reads, f.rel(r))
	f.mu.Unlock()
	return data, nil
}

// Walk walks the tree at p in lexical order without following symlinked directories, like
// filepath.Walk, overlay files included.
func (f *secureFS) Walk(p string, fn filepath.WalkFunc) error {
	r, err := f.resolve(p)
	if err != nil {
		return fn(p, nil, err)
	}
	err = f.walk(r, fn)
	if err == filepath.SkipDir || err == filepath.SkipAll {
		return nil
	}
	return err
}

func (f *secureFS) walk(p string, fn filepath.WalkFunc) error {
	info, err := f.lstat(p)
	if err != nil {
		return fn(p, nil, err)
	}
	if !info.IsDir() {
		return fn(p, info, nil)
	}
	if err := fn(p, info, nil); err != nil {
		return err
	}
	names, err := f.ReadDir(p)
	if err != nil {
		return fn(p, info, err)
	}
	for _, n := range names {
		if err := f.walk(filepath.Join(p, n), fn); err != nil {
			if err == filepath.SkipDir {
				continue
			}
			return err
		}
	}
	return nil
}

// lstat describes p (already inside root) without following a final symlink.
func (f *secureFS) lstat(p string) (fs.FileInfo, error) {
	if data, ok := f.overlay[p]; ok {
		return memInfo{name: filepath.Base(p), size: int64(len(data))}, nil
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: f.rel(p), Err: unwrapPathError(err)}
	}
	return fi, nil
}

// memFile is an overlay file opened for reading.
type memFile struct {
	*bytes.Reader
	info memInfo
}

func (m *memFile) Write([]byte) (int, error)  { return 0, fmt.Errorf("%s: read-only", m.info.name) }
func (m *memFile) Close() error               { return nil }
func (m *memFile) Stat() (os.FileInfo, error) { return m.info, nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// isKustomizationFile reports whether the base name of p is one kustomize recognises.
func isKustomizationFile(p string) bool {
	switch filepath.Base(p) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// hasPathPrefix is strings.HasPrefix on path components.
func hasPathPrefix(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}
