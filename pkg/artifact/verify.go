package artifact

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/fluxcd/pkg/apis/meta"
	"golang.org/x/sync/singleflight"
)

// fileID identifies an inode; all hard links of a blob share it.
type fileID struct{ dev, ino uint64 }

// fileStamp changes whenever the content of an inode may have changed.
type fileStamp struct{ size, mtime, ctime int64 }

type memoEntry struct {
	stamp     fileStamp
	algo, hex string
}

// digestMemo remembers the digest of inodes, keyed by inode and valid while their stamp is
// unchanged: a thousand objects sharing one blob cost one hash, and a file modified in
// place (new mtime/ctime/size) is hashed again.
type digestMemo struct {
	mu     sync.Mutex
	m      map[fileID]memoEntry
	flight singleflight.Group
}

func (d *digestMemo) lookup(fi os.FileInfo, algo string) (string, bool) {
	id, stamp, _, ok := identify(fi)
	if !ok {
		return "", false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e, hit := d.m[id]
	if !hit || e.stamp != stamp || e.algo != algo {
		return "", false
	}
	return e.hex, true
}

func (d *digestMemo) remember(fi os.FileInfo, algo, hexSum string) {
	id, stamp, _, ok := identify(fi)
	if !ok {
		return
	}
	d.mu.Lock()
	d.m[id] = memoEntry{stamp: stamp, algo: algo, hex: hexSum}
	d.mu.Unlock()
}

func (d *digestMemo) forget(fi os.FileInfo) {
	if id, _, _, ok := identify(fi); ok {
		d.mu.Lock()
		delete(d.m, id)
		d.mu.Unlock()
	}
}

// retain drops the entries of inodes not in live (called after a full blob scan).
func (d *digestMemo) retain(live map[fileID]bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.m {
		if !live[id] {
			delete(d.m, id)
		}
	}
}

// fileDigest returns the hex digest of the open file f, from the memo when its inode is
// unchanged since it was last hashed. Concurrent requests for one inode hash it once.
func (s *Storage) fileDigest(f *os.File, algo string) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if hexSum, ok := s.memo.lookup(fi, algo); ok {
		return hexSum, nil
	}
	key := f.Name()
	if id, stamp, _, ok := identify(fi); ok {
		key = fmt.Sprintf("%d:%d:%d:%d:%d:%s", id.dev, id.ino, stamp.size, stamp.mtime, stamp.ctime, algo)
	}
	v, err, _ := s.memo.flight.Do(key, func() (any, error) {
		h, err := newHash(algo)
		if err != nil {
			return "", err
		}
		s.hashes.Add(1)
		// Hash exactly the size seen in the stamp; if the file changes meanwhile its stamp
		// changes too and the next lookup misses.
		n, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size()))
		if err != nil {
			return "", err
		}
		if n != fi.Size() {
			return "", fmt.Errorf("%s shrank while hashing it", f.Name())
		}
		hexSum := hexOf(h)
		s.memo.remember(fi, algo, hexSum)
		return hexSum, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// Verify checks that the artifact's file exists, is a regular file, and matches the
// artifact's size (when set) and digest.
func (s *Storage) Verify(a *meta.Artifact) error {
	if a == nil {
		return fmt.Errorf("verifying artifact: no artifact")
	}
	p := s.LocalPath(a)
	if p == "" {
		return fmt.Errorf("verifying artifact: invalid path %q", a.Path)
	}
	algo, want, err := ParseDigest(a.Digest)
	if err != nil {
		return fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	f, fi, err := openRegular(p)
	if err != nil {
		return fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	defer f.Close()
	if a.Size != nil && fi.Size() != *a.Size {
		return fmt.Errorf("verifying artifact %s: size is %d bytes, expected %d", a.Path, fi.Size(), *a.Size)
	}
	got, err := s.fileDigest(f, algo)
	if err != nil {
		return fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	if got != want {
		return fmt.Errorf("verifying artifact %s: digest is %s:%s, expected %s", a.Path, algo, got, a.Digest)
	}
	return nil
}
