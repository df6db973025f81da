package artifact

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Cache keeps downloaded and extracted artifacts by digest for consumers (kustomize- and
// helm-controller): objects sharing a source revision download and extract it once. Entries
// are read-only for their users; unused entries beyond MaxEntries are removed, oldest first.
type Cache struct {
	dir     string
	fetcher *Fetcher
	max     int

	mu      sync.Mutex
	entries map[string]*cacheEntry
	flight  singleflight.Group
}

type cacheEntry struct {
	dir      string
	refs     int
	lastUsed time.Time
}

// NewCache creates a cache under dir (created if missing, emptied of old entries).
func NewCache(dir string, fetcher *Fetcher, maxEntries int) (*Cache, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if maxEntries < 1 {
		maxEntries = 1
	}
	return &Cache{dir: dir, fetcher: fetcher, max: maxEntries, entries: map[string]*cacheEntry{}}, nil
}

// Get returns the directory holding the extracted artifact at url with digest, downloading it
// first when needed. The directory stays valid until release is called; callers must not
// write into it.
func (c *Cache) Get(ctx context.Context, url, digest string) (dir string, release func(), err error) {
	if _, _, err := ParseDigest(digest); err != nil {
		return "", nil, fmt.Errorf("artifact %s: %w", url, err)
	}
	if dir, release, ok := c.acquire(digest); ok {
		return dir, release, nil
	}
	// One download per digest, shared by every caller that asks meanwhile. It runs on a
	// context detached from the first caller's (whose deadline is its own; the Fetcher's
	// client timeout bounds the download), and each caller stops waiting when its own
	// context ends: a slow or hanging source server holds no reconcile longer than its
	// timeout.
	detached := context.WithoutCancel(ctx)
	ch := c.flight.DoChan(digest, func() (any, error) {
		ctx := detached
		if _, release, ok := c.acquire(digest); ok {
			release()
			return nil, nil
		}
		final := filepath.Join(c.dir, sanitize(digest))
		tmp, err := os.MkdirTemp(c.dir, ".fetch-")
		if err != nil {
			return nil, err
		}
		if err := c.fetcher.Fetch(ctx, url, digest, tmp); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
		os.RemoveAll(final)
		if err := os.Rename(tmp, final); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
		c.mu.Lock()
		c.entries[digest] = &cacheEntry{dir: final, lastUsed: time.Now()}
		c.mu.Unlock()
		c.evict()
		return nil, nil
	})
	select {
	case r := <-ch:
		err = r.Err
	case <-ctx.Done():
		err = fmt.Errorf("artifact %s: %w", url, ctx.Err())
	}
	if err != nil {
		return "", nil, err
	}
	if dir, release, ok := c.acquire(digest); ok {
		return dir, release, nil
	}
	return "", nil, fmt.Errorf("artifact %s was evicted while in use", digest)
}

func (c *Cache) acquire(digest string) (string, func(), bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[digest]
	if !ok {
		return "", nil, false
	}
	e.refs++
	e.lastUsed = time.Now()
	var once sync.Once
	return e.dir, func() {
		once.Do(func() {
			c.mu.Lock()
			e.refs--
			c.mu.Unlock()
			c.evict()
		})
	}, true
}

// evict removes the least recently used unreferenced entries beyond the limit.
func (c *Cache) evict() {
	c.mu.Lock()
	if len(c.entries) <= c.max {
		c.mu.Unlock()
		return
	}
	type kv struct {
		digest string
		e      *cacheEntry
	}
	var idle []kv
	for d, e := range c.entries {
		if e.refs == 0 {
			idle = append(idle, kv{d, e})
		}
	}
	sort.Slice(idle, func(i, j int) bool { return idle[i].e.lastUsed.Before(idle[j].e.lastUsed) })
	var remove []string
	for i := 0; i < len(idle) && len(c.entries) > c.max; i++ {
		delete(c.entries, idle[i].digest)
		remove = append(remove, idle[i].e.dir)
	}
	c.mu.Unlock()
	for _, d := range remove {
		os.RemoveAll(d)
	}
}

// Len is the number of cached artifacts.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func sanitize(digest string) string {
	out := []byte(digest)
	for i, b := range out {
		if b == ':' || b == '/' {
			out[i] = '-'
		}
	}
	return string(out)
}
