package controller

import "sync"

// buildMemo remembers which stored blob a build key produced, so objects that would build the
// same content (1000 OCIRepositories on one artifact, 1000 HelmCharts of one chart version)
// link that blob instead of pulling and packing it again. V is what a kind needs besides the
// blob to fill its status. It is bounded: when full it starts over (a miss only costs one
// build). A remembered blob may have been collected meanwhile; linking it then fails and the
// caller forgets the key and builds.
type buildMemo[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]V
}

func newBuildMemo[V any](max int) *buildMemo[V] {
	return &buildMemo[V]{max: max, m: map[string]V{}}
}

func (b *buildMemo[V]) get(k string) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

func (b *buildMemo[V]) put(k string, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) >= b.max {
		b.m = map[string]V{}
	}
	b.m[k] = v
}

func (b *buildMemo[V]) forget(k string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, k)
}
