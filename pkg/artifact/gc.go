package artifact

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
)

// GarbageCollect deletes artifact files of ref other than current that are older than the
// retention TTL, or beyond the newest RetentionRecords (current counted), then drops the
// blobs no object links to any more. It returns the deleted paths (relative to the base).
//
// Age is the time the file was last stored for this object. After a restart that time is
// unknown and counts from the first collection that sees the file, so nothing is deleted
// early for being "old" on the strength of another object's timestamps.
func (s *Storage) GarbageCollect(ref ObjectRef, current *meta.Artifact) ([]string, error) {
	objDir, err := ref.dir()
	if err != nil {
		return nil, err
	}
	files, err := s.objectFiles(objDir)
	if err != nil {
		return nil, fmt.Errorf("collecting artifacts of %s: %w", ref, err)
	}
	type candidate struct {
		rel string
		at  time.Time
	}
	var cands []candidate
	slots := s.records
	for _, rel := range files {
		if current != nil && rel == current.Path {
			slots--
			continue
		}
		cands = append(cands, candidate{rel: rel, at: s.storedAt(rel)})
	}
	sort.Slice(cands, func(i, j int) bool {
		if !cands[i].at.Equal(cands[j].at) {
			return cands[i].at.After(cands[j].at)
		}
		return cands[i].rel > cands[j].rel
	})
	now := s.now()
	var deleted []string
	var errs []error
	for i, c := range cands {
		if i < slots && now.Sub(c.at) <= s.ttl {
			continue
		}
		if err := s.removeObjectFile(c.rel); err != nil {
			errs = append(errs, err)
			continue
		}
		deleted = append(deleted, c.rel)
	}
	if err := errors.Join(errs...); err != nil {
		return deleted, fmt.Errorf("collecting artifacts of %s: %w", ref, err)
	}
	return deleted, nil
}

// removeObjectFile deletes one object file and its blob when that was the last link.
func (s *Storage) removeObjectFile(rel string) error {
	if err := os.Remove(filepath.Join(s.base, filepath.FromSlash(rel))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	s.forgetStored(rel, false)
	if algo, hexSum, ok := nameDigest(path.Base(rel)); ok {
		return s.releaseBlob(algo, hexSum)
	}
	return nil
}

// releaseBlob removes a blob that no object file links to any more.
func (s *Storage) releaseBlob(algo, hexSum string) error {
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	blob := s.blobPath(algo, hexSum)
	fi, err := os.Lstat(blob)
	if err != nil {
		return nil
	}
	if _, _, nlink, ok := identify(fi); ok && nlink <= 1 {
		if err := os.Remove(blob); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		s.memo.forget(fi)
	}
	return nil
}

// RemoveAll deletes every artifact of ref (on object deletion) and the blobs only it used.
func (s *Storage) RemoveAll(ref ObjectRef) error {
	objDir, err := ref.dir()
	if err != nil {
		return err
	}
	files, err := s.objectFiles(objDir)
	if err != nil {
		return fmt.Errorf("removing artifacts of %s: %w", ref, err)
	}
	if err := os.RemoveAll(filepath.Join(s.base, filepath.FromSlash(objDir))); err != nil {
		return fmt.Errorf("removing artifacts of %s: %w", ref, err)
	}
	s.forgetStored(objDir, true)
	var errs []error
	for _, rel := range files {
		if algo, hexSum, ok := nameDigest(path.Base(rel)); ok {
			errs = append(errs, s.releaseBlob(algo, hexSum))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing artifacts of %s: %w", ref, err)
	}
	return nil
}

// CollectBlobs scans the whole blob store and removes blobs without object links, for
// example left by a crash between writing a blob and linking it. Run it at start-up or
// periodically; GarbageCollect and RemoveAll already release the blobs they orphan.
func (s *Storage) CollectBlobs() ([]string, error) {
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	algos, err := os.ReadDir(filepath.Join(s.base, blobsDir))
	if err != nil {
		return nil, fmt.Errorf("collecting blobs: %w", err)
	}
	live := map[fileID]bool{}
	var removed []string
	for _, a := range algos {
		if !a.IsDir() {
			continue
		}
		dir := filepath.Join(s.base, blobsDir, a.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			return removed, fmt.Errorf("collecting blobs: %w", err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			fi, err := os.Lstat(p)
			if err != nil {
				continue
			}
			id, _, nlink, ok := identify(fi)
			if !ok {
				continue
			}
			if nlink > 1 {
				live[id] = true
				continue
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("collecting blobs: %w", err)
			}
			removed = append(removed, path.Join(blobsDir, a.Name(), e.Name()))
		}
	}
	s.memo.retain(live)
	return removed, nil
}
