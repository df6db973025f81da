// Package artifact stores, serves and fetches source artifacts.
//
// Storage is content addressed: the bytes of an artifact live once under
// <base>/.blobs/<algorithm>/<hex>, and each object that has the artifact holds a hard link
// to it at <lowercase kind>/<namespace>/<name>/<hex><ext>. A thousand objects with the same
// content cost one file, every file can be verified against its own name, and a blob goes
// away when its last object link does.
package artifact

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
)

// Defaults of StorageOptions.
const (
	DefaultRetentionTTL     = 60 * time.Second
	DefaultRetentionRecords = 2
	DefaultDigestAlgorithm  = SHA256
)

const (
	blobsDir = ".blobs" // content addressed bytes; hidden names are never served
	tmpDir   = ".tmp"   // files being written, on the same file system as blobs for link/rename
)

// StorageOptions configures a Storage.
type StorageOptions struct {
	// BasePath is the storage directory (--storage-path); created if missing.
	BasePath string
	// Hostname is the advertised host:port (--storage-adv-addr) artifact URLs are built with.
	Hostname string
	// RetentionTTL is how long superseded artifacts of an object are kept (default 60s).
	RetentionTTL time.Duration
	// RetentionRecords is how many artifacts of an object are kept at most, the current one
	// included (default 2).
	RetentionRecords int
	// DigestAlgorithm names new artifacts' digests: sha256 (default), sha384 or sha512.
	DigestAlgorithm string
	// Now returns the current time; nil means time.Now. Tests set it to drive retention.
	Now func() time.Time
}

// ObjectRef names the object an artifact belongs to.
type ObjectRef struct {
	Kind, Namespace, Name string
}

// String names the object in errors: "<Kind> <namespace>/<name>".
func (r ObjectRef) String() string {
	return fmt.Sprintf("%s %s/%s", r.Kind, r.Namespace, r.Name)
}

// dir is the object's directory relative to the base: <lowercase kind>/<namespace>/<name>.
// Components are checked so a name can never point elsewhere in (or out of) the storage.
func (r ObjectRef) dir() (string, error) {
	parts := []string{strings.ToLower(r.Kind), r.Namespace, r.Name}
	for _, p := range parts {
		if p == "" || strings.HasPrefix(p, ".") || strings.ContainsAny(p, "/\\\x00") {
			return "", fmt.Errorf("invalid object reference %q: kind, namespace and name must be non-empty names", r.String())
		}
	}
	return strings.Join(parts, "/"), nil
}

// Storage is the artifact store of a source controller. It is safe for concurrent use;
// callers serialise work on one object with Lock.
type Storage struct {
	base     string
	hostname string
	ttl      time.Duration
	records  int
	algo     string
	now      func() time.Time

	// blobMu orders blob creation and linking (shared) against blob removal (exclusive),
	// so a blob is never removed between being found and being linked.
	blobMu sync.RWMutex
	locks  lockMap
	memo   digestMemo
	hashes atomic.Int64 // full-file hashes computed; tests and benchmarks read it

	storedMu sync.Mutex
	// stored records when each object file was (re)linked. Hard links share one inode and
	// so one mtime, which says nothing about when this object got the artifact.
	stored map[string]time.Time
}

// NewStorage creates the storage directories and returns a Storage.
func NewStorage(opts StorageOptions) (*Storage, error) {
	if opts.BasePath == "" {
		return nil, errors.New("artifact storage: base path is required")
	}
	if opts.Hostname == "" {
		return nil, errors.New("artifact storage: advertised hostname is required")
	}
	base, err := filepath.Abs(opts.BasePath)
	if err != nil {
		return nil, err
	}
	s := &Storage{
		base:     base,
		hostname: opts.Hostname,
		ttl:      opts.RetentionTTL,
		records:  opts.RetentionRecords,
		algo:     opts.DigestAlgorithm,
		now:      opts.Now,
		locks:    lockMap{m: map[string]*refLock{}},
		memo:     digestMemo{m: map[fileID]memoEntry{}},
		stored:   map[string]time.Time{},
	}
	if s.ttl <= 0 {
		s.ttl = DefaultRetentionTTL
	}
	if s.records <= 0 {
		s.records = DefaultRetentionRecords
	}
	if s.algo == "" {
		s.algo = DefaultDigestAlgorithm
	}
	if s.now == nil {
		s.now = time.Now
	}
	if _, err := newHash(s.algo); err != nil {
		return nil, fmt.Errorf("artifact storage: %w", err)
	}
	// Leftovers of writes interrupted by a restart are garbage.
	if err := os.RemoveAll(filepath.Join(base, tmpDir)); err != nil {
		return nil, fmt.Errorf("artifact storage: cleaning %s: %w", tmpDir, err)
	}
	for _, d := range []string{filepath.Join(base, tmpDir), filepath.Join(base, blobsDir, s.algo)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("artifact storage: %w", err)
		}
	}
	return s, nil
}

// BasePath returns the absolute storage directory.
func (s *Storage) BasePath() string { return s.base }

// URL returns the HTTP address of a storage path.
func (s *Storage) URL(rel string) string {
	return "http://" + s.hostname + "/" + rel
}

// validRelPath accepts slash separated paths of plain names; hidden components (".blobs",
// ".tmp", "..") are refused, which keeps both traversal and internals out of reach.
func validRelPath(rel string) bool {
	if rel == "" || strings.ContainsAny(rel, "\\\x00") {
		return false
	}
	for _, c := range strings.Split(rel, "/") {
		if c == "" || strings.HasPrefix(c, ".") {
			return false
		}
	}
	return true
}

// LocalPath returns the absolute file path of an artifact, or "" when its path is not a
// valid storage path.
func (s *Storage) LocalPath(a *meta.Artifact) string {
	if a == nil || !validRelPath(a.Path) {
		return ""
	}
	return filepath.Join(s.base, filepath.FromSlash(a.Path))
}

// Exists reports whether the artifact's file is present.
func (s *Storage) Exists(a *meta.Artifact) bool {
	p := s.LocalPath(a)
	if p == "" {
		return false
	}
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

func (s *Storage) blobPath(algo, hexSum string) string {
	return filepath.Join(s.base, blobsDir, algo, hexSum)
}

// openRegular opens a regular file that is not a symlink.
func openRegular(p string) (*os.File, os.FileInfo, error) {
	lfi, err := os.Lstat(p)
	if err != nil {
		return nil, nil, err
	}
	if !lfi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil || !os.SameFile(lfi, fi) {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s changed while opening it", p)
		}
		return nil, nil, err
	}
	return f, fi, nil
}

// touchStored records that rel was linked for its object now.
func (s *Storage) touchStored(rel string) {
	s.storedMu.Lock()
	s.stored[rel] = s.now()
	s.storedMu.Unlock()
}

// storedAt returns when rel was linked; a file unknown since a restart counts from now.
func (s *Storage) storedAt(rel string) time.Time {
	s.storedMu.Lock()
	defer s.storedMu.Unlock()
	t, ok := s.stored[rel]
	if !ok {
		t = s.now()
		s.stored[rel] = t
	}
	return t
}

// forgetStored drops the records of rel, or of everything below rel+"/" when dir is set.
func (s *Storage) forgetStored(rel string, dir bool) {
	s.storedMu.Lock()
	defer s.storedMu.Unlock()
	if !dir {
		delete(s.stored, rel)
		return
	}
	for k := range s.stored {
		if strings.HasPrefix(k, rel+"/") {
			delete(s.stored, k)
		}
	}
}

// objectFiles lists the artifact files in an object directory (relative paths).
func (s *Storage) objectFiles(objDir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.base, filepath.FromSlash(objDir)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, path.Join(objDir, e.Name()))
		}
	}
	return out, nil
}
