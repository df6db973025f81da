// Package tagstore keeps the tags of every scanned image repository on disk, in one bbolt
// database, so the image-reflector-controller survives restarts without rescanning and its
// memory does not grow with the number of tags: the database is memory-mapped and tags are
// read back one at a time (View) when a policy evaluates them.
//
// Each repository key (the reconciler uses "<namespace>/<name>" of the ImageRepository, so
// repositories with different credentials never share tags) holds its tag set, the scan
// revision that produced it and a digest cache per tag.
package tagstore

import (
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned for a repository key that has no stored scan (never scanned, deleted,
// or the database was lost): the reconciler rescans.
var ErrNotFound = errors.New("no tags stored for this repository")

var (
	reposBucket   = []byte("repositories")
	tagsBucket    = []byte("tags")
	digestsBucket = []byte("digests")
	revisionKey   = []byte("revision")
	countKey      = []byte("count")
)

// Store is a tag database. It is safe for concurrent use; one process at a time may open a file.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the database at path. It waits at most lockTimeout for
// another process holding the file to let go (0 means one second).
func Open(path string, lockTimeout time.Duration) (*Store, error) {
	if lockTimeout <= 0 {
		lockTimeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("tag database %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open tag database %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(reposBucket)
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialise tag database %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close releases the database file.
func (s *Store) Close() error { return s.db.Close() }

// SetTags replaces the tags of repoKey with tags (any order; duplicates collapse) and records
// revision (registry.ScanResult.Revision). Cached digests of tags that are gone are dropped;
// the others are kept. The replacement is atomic: readers see the old or the new set.
func (s *Store) SetTags(repoKey string, tags []string, revision string) error {
	if repoKey == "" {
		return errors.New("tag database: empty repository key")
	}
	sorted := slices.Compact(slices.Sorted(slices.Values(tags)))
	err := s.db.Update(func(tx *bolt.Tx) error {
		repo, err := tx.Bucket(reposBucket).CreateBucketIfNotExists([]byte(repoKey))
		if err != nil {
			return err
		}
		if repo.Bucket(tagsBucket) != nil {
			if err := repo.DeleteBucket(tagsBucket); err != nil {
				return err
			}
		}
		tb, err := repo.CreateBucket(tagsBucket)
		if err != nil {
			return err
		}
		// bbolt keeps a transaction's inserts in one in-memory node per leaf until commit,
		// so unsorted inserts cost O(n²) element moves; sorted ones append, and full pages
		// keep the file small.
		tb.FillPercent = 1.0
		count := 0
		for _, t := range sorted {
			if t == "" {
				continue
			}
			if err := tb.Put([]byte(t), []byte{}); err != nil {
				return fmt.Errorf("tag %q: %w", t, err)
			}
			count++
		}
		if err := pruneDigests(repo, tb); err != nil {
			return err
		}
		if err := repo.Put(countKey, []byte(strconv.Itoa(count))); err != nil {
			return err
		}
		return repo.Put(revisionKey, []byte(revision))
	})
	if err != nil {
		return fmt.Errorf("store tags of %s: %w", repoKey, err)
	}
	return nil
}

// pruneDigests removes cached digests of tags no longer in tb.
func pruneDigests(repo, tb *bolt.Bucket) error {
	db := repo.Bucket(digestsBucket)
	if db == nil {
		return nil
	}
	var gone [][]byte
	if err := db.ForEach(func(tag, _ []byte) error {
		if !hasKey(tb, tag) {
			gone = append(gone, append([]byte(nil), tag...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, t := range gone {
		if err := db.Delete(t); err != nil {
			return err
		}
	}
	return nil
}

// hasKey reports whether key is stored (tags have empty values, which Get cannot tell apart
// from a missing key).
func hasKey(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return k != nil && string(k) == string(key)
}

// View calls fn with an iterator over the tags of repoKey in ascending lexical order. The
// iterator reads from the memory-mapped file inside one read transaction, so a policy can
// evaluate 100,000 tags while holding one at a time; it must not be used after fn returns.
// It returns ErrNotFound when nothing is stored for repoKey.
func (s *Store) View(repoKey string, fn func(tags iter.Seq[string]) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		tb := tagBucket(tx, repoKey)
		if tb == nil {
			return ErrNotFound
		}
		return fn(func(yield func(string) bool) {
			c := tb.Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if !yield(string(k)) {
					return
				}
			}
		})
	})
}

// Tags returns all tags of repoKey in ascending lexical order (see View to avoid holding
// them all).
func (s *Store) Tags(repoKey string) ([]string, error) {
	var out []string
	err := s.View(repoKey, func(tags iter.Seq[string]) error {
		for t := range tags {
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// Count returns the number of tags stored for repoKey.
func (s *Store) Count(repoKey string) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		repo := tx.Bucket(reposBucket).Bucket([]byte(repoKey))
		if repo == nil || repo.Bucket(tagsBucket) == nil {
			return ErrNotFound
		}
		var err error
		n, err = strconv.Atoi(string(repo.Get(countKey)))
		return err
	})
	return n, err
}

// Revision returns the revision recorded by the last SetTags of repoKey.
func (s *Store) Revision(repoKey string) (string, error) {
	var rev string
	err := s.db.View(func(tx *bolt.Tx) error {
		repo := tx.Bucket(reposBucket).Bucket([]byte(repoKey))
		if repo == nil || repo.Bucket(tagsBucket) == nil {
			return ErrNotFound
		}
		rev = string(repo.Get(revisionKey))
		return nil
	})
	return rev, err
}

// Delete removes everything stored for repoKey (ImageRepository deletion). Deleting a missing
// key is not an error.
func (s *Store) Delete(repoKey string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		err := tx.Bucket(reposBucket).DeleteBucket([]byte(repoKey))
		if errors.Is(err, bolt.ErrBucketNotFound) {
			return nil
		}
		return err
	})
}

// SetDigest caches the manifest digest of tag. The tag must be stored.
func (s *Store) SetDigest(repoKey, tag, digest string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		tb := tagBucket(tx, repoKey)
		if tb == nil {
			return ErrNotFound
		}
		if !hasKey(tb, []byte(tag)) {
			return fmt.Errorf("tag %q is not stored for %s", tag, repoKey)
		}
		db, err := tx.Bucket(reposBucket).Bucket([]byte(repoKey)).CreateBucketIfNotExists(digestsBucket)
		if err != nil {
			return err
		}
		return db.Put([]byte(tag), []byte(digest))
	})
}

// Digest returns the cached digest of tag; ok is false when none is cached.
func (s *Store) Digest(repoKey, tag string) (digest string, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		repo := tx.Bucket(reposBucket).Bucket([]byte(repoKey))
		if repo == nil {
			return ErrNotFound
		}
		if db := repo.Bucket(digestsBucket); db != nil {
			if v := db.Get([]byte(tag)); v != nil {
				digest, ok = string(v), true
			}
		}
		return nil
	})
	return digest, ok, err
}

func tagBucket(tx *bolt.Tx, repoKey string) *bolt.Bucket {
	repo := tx.Bucket(reposBucket).Bucket([]byte(repoKey))
	if repo == nil {
		return nil
	}
	return repo.Bucket(tagsBucket)
}
