// Package indexcache keeps parsed Helm repository indexes in memory so that every HelmChart
// of a repository shares one parsed copy per index revision.
//
// A HelmRepository's index artifact can be tens of megabytes of YAML; parsing it once per
// HelmChart reconcile dominates source-controller's CPU when many charts use one repository.
// Entries are keyed by repository and revision (the revision is the digest of the stored
// index, so a key always names the same content), expire after a TTL that every hit
// refreshes, and are purged periodically. Concurrent misses for one key are coalesced: the
// index is parsed once and every waiter gets that result.
//
// The flags (upstream names): --helm-cache-max-size (entries; 0 keeps nothing but still
// coalesces concurrent loads), --helm-cache-ttl (15m), --helm-cache-purge-interval (1m).
package indexcache

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"helm.sh/helm/v3/pkg/repo"
)

// Defaults of the options, as upstream source-controller's flags.
const (
	DefaultTTL           = 15 * time.Minute
	DefaultPurgeInterval = time.Minute
)

// Key names one index: the repository it belongs to and its revision. Keying by repository
// too keeps tenants apart (as upstream, which keys by artifact path) even when two
// repositories serve identical indexes.
type Key struct {
	// Repository identifies the HelmRepository, e.g. "<namespace>/<name>".
	Repository string
	// Revision is the index revision (status.artifact.revision, "sha256:<hex>").
	Revision string
}

func (k Key) String() string { return k.Repository + "@" + k.Revision }

// EventType classifies cache events for metrics.
type EventType string

// Event types.
const (
	// EventHit: the index was served from the cache.
	EventHit EventType = "hit"
	// EventMiss: the index was not cached; the caller loaded it or waited for a load.
	EventMiss EventType = "miss"
	// EventLoad: the loader ran (one parse of the index).
	EventLoad EventType = "load"
	// EventEvict: an entry was dropped to make room, or replaced by a newer revision.
	EventEvict EventType = "evict"
	// EventExpire: an entry was dropped after its TTL.
	EventExpire EventType = "expire"
)

// Event is reported to Options.OnEvent.
type Event struct {
	Type EventType
	Key  Key
}

// Options configure a Cache. Zero values take the defaults.
type Options struct {
	// MaxEntries bounds the number of cached indexes (--helm-cache-max-size). When full, the
	// least recently used entry is evicted. 0 caches nothing.
	MaxEntries int
	// TTL is how long an entry lives after its last use (--helm-cache-ttl).
	TTL time.Duration
	// PurgeInterval is how often Start drops expired entries (--helm-cache-purge-interval).
	PurgeInterval time.Duration
	// OnEvent, when set, is called for every cache event (outside the cache's lock), e.g. to
	// count gotk_cache_events_total.
	OnEvent func(Event)
	// Now returns the current time; tests set it. Default time.Now.
	Now func() time.Time
}

// Loader produces the parsed index on a miss, typically repository.LoadIndexFile on the
// stored artifact.
type Loader func() (*repo.IndexFile, error)

// Stats are the cache's counters since it was created.
type Stats struct {
	Hits, Misses, Loads, Evictions, Expirations uint64
	// Entries is the number of cached indexes now.
	Entries int
}

// Cache is a concurrency-safe index cache. Cached indexes are shared between callers and must
// not be modified.
type Cache struct {
	opts Options

	mu     sync.Mutex
	byKey  map[Key]*list.Element // of *entry
	byRepo map[string]Key        // the one cached revision of each repository
	lru    *list.List            // front: most recently used

	flights singleflight.Group

	hits, misses, loads, evictions, expirations atomic.Uint64
}

type entry struct {
	key     Key
	index   *repo.IndexFile
	expires time.Time
}

// New builds a Cache.
func New(opts Options) *Cache {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.PurgeInterval <= 0 {
		opts.PurgeInterval = DefaultPurgeInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache{
		opts:   opts,
		byKey:  map[Key]*list.Element{},
		byRepo: map[string]Key{},
		lru:    list.New(),
	}
}

// Get returns the index for key, calling load on a miss. Concurrent misses for the same key
// share one load. A caller whose ctx ends stops waiting (the load goes on for the others).
// Load errors are not cached.
func (c *Cache) Get(ctx context.Context, key Key, load Loader) (*repo.IndexFile, error) {
	if idx, ok := c.lookup(key); ok {
		c.hits.Add(1)
		c.emit(Event{EventHit, key})
		return idx, nil
	}
	c.misses.Add(1)
	c.emit(Event{EventMiss, key})
	ch := c.flights.DoChan(key.String(), func() (any, error) {
		// A flight that finished just before this one started may have stored the index.
		if idx, ok := c.lookup(key); ok {
			return idx, nil
		}
		c.loads.Add(1)
		c.emit(Event{EventLoad, key})
		idx, err := load()
		if err != nil {
			return nil, err
		}
		c.Set(key, idx)
		return idx, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*repo.IndexFile), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Set stores idx under key, replacing any other revision of the same repository (a
// repository has one current index), and evicting the least recently used entry when full.
// The HelmRepository step calls it after storing a new index artifact so the first HelmChart
// finds it parsed.
func (c *Cache) Set(key Key, idx *repo.IndexFile) {
	if c.opts.MaxEntries <= 0 || idx == nil {
		return
	}
	var evicted []Key
	c.mu.Lock()
	if el, ok := c.byKey[key]; ok {
		e := el.Value.(*entry)
		e.index, e.expires = idx, c.opts.Now().Add(c.opts.TTL)
		c.lru.MoveToFront(el)
		c.mu.Unlock()
		return
	}
	if old, ok := c.byRepo[key.Repository]; ok {
		c.removeLocked(old)
		evicted = append(evicted, old)
	}
	for c.lru.Len() >= c.opts.MaxEntries {
		oldest := c.lru.Back().Value.(*entry).key
		c.removeLocked(oldest)
		evicted = append(evicted, oldest)
	}
	c.byKey[key] = c.lru.PushFront(&entry{key: key, index: idx, expires: c.opts.Now().Add(c.opts.TTL)})
	c.byRepo[key.Repository] = key
	c.mu.Unlock()
	for _, k := range evicted {
		c.evictions.Add(1)
		c.emit(Event{EventEvict, k})
	}
}

// Delete drops the cached index of a repository (e.g. when the HelmRepository is deleted).
func (c *Cache) Delete(repository string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.byRepo[repository]; ok {
		c.removeLocked(k)
	}
}

// Purge drops expired entries and returns how many it dropped.
func (c *Cache) Purge() int {
	now := c.opts.Now()
	var expired []Key
	c.mu.Lock()
	for el := c.lru.Back(); el != nil; {
		prev := el.Prev()
		if e := el.Value.(*entry); !now.Before(e.expires) {
			c.removeLocked(e.key)
			expired = append(expired, e.key)
		}
		el = prev
	}
	c.mu.Unlock()
	for _, k := range expired {
		c.expirations.Add(1)
		c.emit(Event{EventExpire, k})
	}
	return len(expired)
}

// Start purges expired entries every PurgeInterval until ctx ends. It fits
// controller-runtime's manager.Runnable.
func (c *Cache) Start(ctx context.Context) error {
	t := time.NewTicker(c.opts.PurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			c.Purge()
		}
	}
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	n := c.lru.Len()
	c.mu.Unlock()
	return Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Loads: c.loads.Load(),
		Evictions: c.evictions.Load(), Expirations: c.expirations.Load(), Entries: n,
	}
}

// lookup returns a live entry and refreshes its TTL and recency. An expired entry is left for
// Purge (it is not served).
func (c *Cache) lookup(key Key) (*repo.IndexFile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry)
	now := c.opts.Now()
	if !now.Before(e.expires) {
		return nil, false
	}
	e.expires = now.Add(c.opts.TTL)
	c.lru.MoveToFront(el)
	return e.index, true
}

func (c *Cache) removeLocked(key Key) {
	el, ok := c.byKey[key]
	if !ok {
		return
	}
	c.lru.Remove(el)
	delete(c.byKey, key)
	if c.byRepo[key.Repository] == key {
		delete(c.byRepo, key.Repository)
	}
}

func (c *Cache) emit(e Event) {
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(e)
	}
}
