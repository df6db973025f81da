package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxSymlinkHops bounds symlink resolution so a loop of links fails instead of spinning.
const maxSymlinkHops = 64

// cloneDirPrefix is the name prefix of the temp dirs kustomize clones remote bases into
// (filesys.NewTmpConfirmedDir). Paths in such a dir are readable only when remote bases
// are allowed, and each clone is its own jail.
const cloneDirPrefix = "kustomize-"

// errOutsideRoot marks every refusal of a path that resolves outside the source root, so
// callers can tell a security violation from a plain missing file.
var errOutsideRoot = errors.New("is outside the source root")

// secureFS is the filesys.FileSystem kustomize builds against. It serves the read-only
// on-disk tree under root plus in-memory files (the generated or overridden
// kustomization), and refuses every path that resolves, after following symlinks, outside
// root. Why: the artifact tree is untrusted and shared between builds, so kustomize must
// neither read outside it (../../etc/passwd, symlinks out, absolute paths) nor write into it.
//
// Violations are also remembered, because kustomize sometimes swallows a read error (it
// probes kustomization file names and falls back from "file" to "directory"); Build fails
// when any violation was seen, with the violation as the error.
type secureFS struct {
	root     string            // absolute, cleaned, symlink-free
	overlay  map[string][]byte // absolute path inside root -> content served instead of disk
	tempDir  string            // symlink-free os.TempDir(), "" when remote bases are refused
	noRemote bool              // refuse remote resources while scanning kustomization files

	mu        sync.Mutex
	violation error             // first security violation seen
	invalid   error             // first kustomization file that failed to parse
	scanned   map[string]bool   // kustomization/config files already scanned
	configs   map[string]string // absolute path of generator/transformer config -> referrer
	reads     []string          // root-relative paths of files read, in order (for messages)

	decrypter     SecretSourceDecrypter   // nil: secretGenerator sources are read as they are
	secretSources map[string]SecretSource // resolved path -> the secretGenerator entry reading it
	decryptErr    *DecryptError           // first source that failed to decrypt
}

func newSecureFS(root string, allowRemote bool) (*secureFS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("source root %q: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("source root %q: %w", root, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("source root %q: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("source root %q is not a directory", root)
	}
	f := &secureFS{
		root:     real,
		overlay:  map[string][]byte{},
		noRemote: !allowRemote,
		scanned:  map[string]bool{},
		configs:  map[string]string{},

		secretSources: map[string]SecretSource{},
	}
	if allowRemote {
		if tmp, err := filepath.EvalSymlinks(os.TempDir()); err == nil {
			f.tempDir = tmp
		}
	}
	return f, nil
}

// rel renders p for messages: relative to root when inside it, as given otherwise.
func (f *secureFS) rel(p string) string {
	if p == f.root {
		return "."
	}
	if r, ok := strings.CutPrefix(p, f.root+string(filepath.Separator)); ok {
		return filepath.ToSlash(r)
	}
	return p
}

// within reports whether the cleaned absolute path p is dir or below it.
func within(dir, p string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) || dir == string(filepath.Separator)
}

// jail returns the directory that the cleaned absolute path p must stay in: root, or the
// clone dir of a remote base when remote bases are allowed.
func (f *secureFS) jail(p string) (string, bool) {
	if within(f.root, p) {
		return f.root, true
	}
	if f.tempDir != "" {
		if rest, ok := strings.CutPrefix(p, f.tempDir+string(filepath.Separator)); ok {
			first, _, _ := strings.Cut(rest, string(filepath.Separator))
			if strings.HasPrefix(first, cloneDirPrefix) {
				return filepath.Join(f.tempDir, first), true
			}
		}
	}
	return "", false
}

// abs makes p absolute and clean; relative paths are taken relative to root, never to the
// process's working directory.
func (f *secureFS) abs(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(f.root, p)
	}
	return filepath.Clean(p)
}

// outside records and returns a violation for requested; link is the symlink (as written in
// the tree) that led out, if any. The message names paths only, never content.
func (f *secureFS) outside(requested, link string) error {
	var err error
	if link == "" {
		err = fmt.Errorf("security: path '%s' %w", f.rel(requested), errOutsideRoot)
	} else {
		err = fmt.Errorf("security: path '%s' resolves through symlink '%s', which %w",
			f.rel(requested), link, errOutsideRoot)
	}
	f.recordViolation(err)
	return err
}

func (f *secureFS) recordViolation(err error) {
	f.mu.Lock()
	if f.violation == nil {
		f.violation = err
	}
	f.mu.Unlock()
}

func (f *secureFS) firstViolation() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.violation
}

// resolve maps p to a symlink-free absolute path inside its jail without touching anything
// outside it: every component is Lstat'ed from the jail down, and a symlink whose target
// leaves the jail is refused before the target is looked at. Overlay files resolve to
// themselves. A missing component yields an error wrapping fs.ErrNotExist.
func (f *secureFS) resolve(p string) (string, error) {
	requested := f.abs(p)
	if _, ok := f.overlay[requested]; ok {
		return requested, nil
	}
	jail, ok := f.jail(requested)
	if !ok {
		return "", f.outside(requested, "")
	}
	cur := jail
	rest := splitPath(strings.TrimPrefix(requested, jail))
	for hops := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		next := filepath.Join(cur, c)
		if _, ok := f.overlay[next]; ok && len(rest) == 0 {
			return next, nil
		}
		fi, err := os.Lstat(next)
		if err != nil {
			return "", &fs.PathError{Op: "stat", Path: f.rel(requested), Err: unwrapPathError(err)}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxSymlinkHops {
			return "", fmt.Errorf("path '%s': too many levels of symbolic links", f.rel(requested))
		}
		link, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("path '%s': %w", f.rel(requested), unwrapPathError(err))
		}
		target := link
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		target = filepath.Clean(target)
		if !within(jail, target) {
			// Name the link as written, not the host path it lands on.
			return "", f.outside(requested, link)
		}
		rest = append(splitPath(strings.TrimPrefix(target, jail)), rest...)
		cur = jail
	}
	return cur, nil
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, string(filepath.Separator)) {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// unwrapPathError drops the absolute path an *fs.PathError carries, so messages only show
// root-relative paths.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// stat returns what p is after resolution; overlay files are regular files.
func (f *secureFS) stat(p string) (resolved string, isDir bool, err error) {
	resolved, err = f.resolve(p)
	if err != nil {
		return "", false, err
	}
	if _, ok := f.overlay[resolved]; ok {
		return resolved, false, nil
	}
	fi, err := os.Stat(resolved) // symlink-free, so this stats exactly resolved
	if err != nil {
		return "", false, &fs.PathError{Op: "stat", Path: f.rel(resolved), Err: unwrapPathError(err)}
	}
	return resolved, fi.IsDir(), nil
}
