package kustomize

import (
	"container/list"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Builder caches builds by (artifact digest, path, options). Many Kustomizations often build
// the same artifact (one repository, many clusters or tenants), and a source revision is
// built again on every reconcile interval: with the artifact content-addressed by its
// digest, the build result is a pure function of the key, so it is computed once.
//
// The cache stores one copy of each result and hands every caller its own deep copy,
// because callers mutate the objects (substitution, SOPS, apply metadata). Failed builds
// are not cached. Concurrent callers of one key share a single build.
type Builder struct {
	max    int
	group  singleflight.Group
	builds atomic.Int64 // builds actually run (for tests and metrics)

	mu      sync.Mutex
	entries map[string]*list.Element // cache key -> element holding *cacheEntry
	lru     *list.List               // front = most recently used
}

type cacheEntry struct {
	key  string
	objs []*unstructured.Unstructured
}

// NewBuilder returns a Builder keeping at most maxEntries build results (least recently
// used evicted first). maxEntries <= 0 disables caching but still de-duplicates concurrent
// identical builds.
func NewBuilder(maxEntries int) *Builder {
	return &Builder{max: maxEntries, entries: map[string]*list.Element{}, lru: list.New()}
}

// Build returns the objects of root/path built with opts (see the package-level Build),
// from the cache when key, path and opts were built before. key identifies the content
// of root (the artifact digest); an empty key bypasses the cache.
func (b *Builder) Build(key, root, path string, opts Options) ([]*unstructured.Unstructured, error) {
	if key == "" {
		return Build(root, path, opts)
	}
	ck := key + "\x00" + filepath.Clean(strings.TrimLeft(path, "/")) + "\x00" + opts.hash()
	if objs, ok := b.get(ck); ok {
		return deepCopy(objs), nil
	}
	v, err, shared := b.group.Do(ck, func() (any, error) {
		if objs, ok := b.get(ck); ok { // built while we waited for the group
			return objs, nil
		}
		b.builds.Add(1)
		objs, err := Build(root, path, opts)
		if err != nil {
			return nil, err
		}
		b.put(ck, objs)
		return objs, nil
	})
	if err != nil {
		return nil, err
	}
	objs := v.([]*unstructured.Unstructured)
	if !shared && b.max <= 0 {
		return objs, nil // nobody else holds these: no copy needed
	}
	return deepCopy(objs), nil
}

// Len returns the number of cached builds.
func (b *Builder) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lru.Len()
}

func (b *Builder) get(ck string) ([]*unstructured.Unstructured, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[ck]
	if !ok {
		return nil, false
	}
	b.lru.MoveToFront(e)
	return e.Value.(*cacheEntry).objs, true
}

func (b *Builder) put(ck string, objs []*unstructured.Unstructured) {
	if b.max <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.entries[ck]; ok {
		e.Value.(*cacheEntry).objs = objs
		b.lru.MoveToFront(e)
		return
	}
	b.entries[ck] = b.lru.PushFront(&cacheEntry{key: ck, objs: objs})
	for b.lru.Len() > b.max {
		old := b.lru.Back()
		b.lru.Remove(old)
		delete(b.entries, old.Value.(*cacheEntry).key)
	}
}

func deepCopy(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}
