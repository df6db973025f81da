package health

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// OwnerLabels name the labels an applier puts on what it applies to record its owner, e.g.
// kustomize.toolkit.fluxcd.io/name and kustomize.toolkit.fluxcd.io/namespace.
type OwnerLabels struct {
	Name, Namespace string
}

// Waiter is one owner's pending health check.
type Waiter[P any] struct {
	// UID tells the owner from an earlier object of the same name.
	UID types.UID
	// Refs are the objects still being waited for.
	Refs []Ref
	// Payload is what the owner's controller keeps about the check (the applied revision,
	// the deadline, ...).
	Payload P
	// remote is the ClusterKey of the cluster the objects are in; "" for the manager's.
	remote string
}

// Tracker runs watch-driven health checks for a controller: it remembers which owners
// (Kustomizations, HelmReleases) wait for which objects, watches those objects' kinds
// through the manager's cache, and requeues a waiting owner when one of its objects changes.
// A health check then costs no API request and holds no worker: the owner's reconcile ends
// InProgress and the watch wakes it.
//
// Objects of remote clusters (spec.kubeConfig) are watched the same way, through a cache of
// the remote cluster per namespace that the first wait on it starts and the last waiter's
// Done stops (see RemoteCluster): a spoke is watched only while something waits on it.
//
// Add Source to the owner's controller (builder.WatchesRawSource) so the tracker can enqueue
// into it. The set of waiters is in memory: after a restart it is empty, and the owners'
// next reconciles record their waits again.
type Tracker[P any] struct {
	cache  cache.Cache
	labels OwnerLabels

	mu       sync.Mutex
	ctx      context.Context
	queue    workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]
	watched  map[schema.GroupVersionKind]bool
	waiters  map[types.NamespacedName]*Waiter[P]
	byObject map[ObjMeta]map[types.NamespacedName]struct{}
	// held are the owners whose reconcile is running and waits for changes itself (Hold):
	// a change closes the channel instead of enqueuing the owner.
	held map[types.NamespacedName]chan struct{}
	// remotes are the running caches of remote clusters, by cluster and namespace.
	remotes map[remoteKey]*remoteCache
}

// NewTracker returns a tracker reading from c (the manager's cache); labels name the owner
// labels of the objects the owners apply.
func NewTracker[P any](c cache.Cache, labels OwnerLabels) *Tracker[P] {
	return &Tracker[P]{
		cache:    c,
		labels:   labels,
		watched:  map[schema.GroupVersionKind]bool{},
		waiters:  map[types.NamespacedName]*Waiter[P]{},
		byObject: map[ObjMeta]map[types.NamespacedName]struct{}{},
		held:     map[types.NamespacedName]chan struct{}{},
		remotes:  map[remoteKey]*remoteCache{},
	}
}

// Hold tells the tracker that owner's reconcile is running and will look at its objects
// again itself: until Release, a change of an object owner waits on closes the returned
// channel instead of enqueuing owner (which would start another reconcile once this one
// ends, to find nothing to do or, once the wait is over, to apply everything again). Call
// Hold again after each close to wait for the next change; read the cache after Hold, not
// before, so no change falls between the two.
func (t *Tracker[P]) Hold(owner client.Object) <-chan struct{} {
	key := client.ObjectKeyFromObject(owner)
	t.mu.Lock()
	defer t.mu.Unlock()
	ch := make(chan struct{})
	t.held[key] = ch
	return ch
}

// Release ends Hold: changes enqueue owner again. A change that came between the owner's
// last look at the cache and Release enqueued nothing: look once more after Release.
func (t *Tracker[P]) Release(owner client.Object) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.held, client.ObjectKeyFromObject(owner))
}

// Source is the tracker's event source for the owner's controller.
func (t *Tracker[P]) Source() source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]) error {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.ctx, t.queue = ctx, q
		return nil
	})
}

// Wait records (or replaces) owner's wait for refs with payload, and watches the objects'
// kinds from now on: in the manager's cache when remote is nil (once per kind), else in
// remote's caches, started now if none runs. Starting a remote watch never waits for the
// remote API server: until its cache has synced, Get reports the objects as not observed
// yet, and the sync itself wakes the owner.
func (t *Tracker[P]) Wait(owner client.Object, remote RemoteCluster, refs []Ref, payload P) error {
	key := client.ObjectKeyFromObject(owner)
	t.mu.Lock()
	old := t.waiters[key]
	if old != nil {
		t.unindexObjects(key, old)
	}
	w := &Waiter[P]{UID: owner.GetUID(), Refs: refs, Payload: payload}
	if remote != nil {
		w.remote = remote.ClusterKey()
	}
	t.waiters[key] = w
	for _, r := range refs {
		m := r.Meta()
		set := t.byObject[m]
		if set == nil {
			set = map[types.NamespacedName]struct{}{}
			t.byObject[m] = set
		}
		set[key] = struct{}{}
	}
	if old != nil && old.remote != "" {
		// Release what the earlier wait used and this one does not: a cache both use keeps
		// running instead of being stopped and started again.
		keep := map[remoteKey]bool{}
		for _, r := range refs {
			if remote != nil {
				keep[remoteKey{cluster: remote.ClusterKey(), namespace: r.Namespace}] = true
			}
		}
		defer func() {
			t.mu.Lock()
			t.releaseRemoteLocked(key, old, keep)
			t.mu.Unlock()
		}()
	}
	if remote != nil {
		starts, err := t.watchRemoteLocked(key, remote, refs)
		t.mu.Unlock()
		// Informers are looked up in the background: that may ask the remote API server
		// for its kinds, and an unreachable spoke must hold up neither this reconcile nor
		// anyone else's health checks.
		for _, start := range starts {
			go start()
		}
		return err
	}
	defer t.mu.Unlock()
	for _, r := range refs {
		if err := t.watchLocked(r.GVK()); err != nil {
			return err
		}
	}
	return nil
}

// Pending returns owner's wait, if it has one (an earlier object of the same name does not
// count).
func (t *Tracker[P]) Pending(owner client.Object) (*Waiter[P], bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.waiters[client.ObjectKeyFromObject(owner)]
	if w == nil || w.UID != owner.GetUID() {
		return nil, false
	}
	return w, true
}

// Done forgets owner's wait.
func (t *Tracker[P]) Done(owner client.Object) {
	key := client.ObjectKeyFromObject(owner)
	t.mu.Lock()
	defer t.mu.Unlock()
	if w := t.waiters[key]; w != nil {
		t.unindex(key, w)
		delete(t.waiters, key)
	}
}

// Get reads an object from the watch cache of the cluster it is in (remote nil: the
// manager's); nil when it does not exist. An object of a remote cluster nobody waits on is
// read from its API; one whose cache has not synced yet is reported as not observed yet.
func (t *Tracker[P]) Get(ctx context.Context, remote RemoteCluster, ref Ref) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ref.GVK())
	var reader client.Reader = t.cache
	if remote != nil {
		c, synced, err := t.remoteReader(ctx, remote, ref)
		if err != nil {
			return nil, err
		}
		if !synced {
			return NotYetObserved(ref, 1), nil
		}
		reader = c
	}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return u, nil
}

// unindex removes w's objects from the index and releases its remote watches; t.mu is held.
func (t *Tracker[P]) unindex(key types.NamespacedName, w *Waiter[P]) {
	t.unindexObjects(key, w)
	if w.remote != "" {
		t.releaseRemoteLocked(key, w, nil)
	}
}

// unindexObjects removes w's objects from the index; t.mu is held.
func (t *Tracker[P]) unindexObjects(key types.NamespacedName, w *Waiter[P]) {
	for _, r := range w.Refs {
		m := r.Meta()
		if set := t.byObject[m]; set != nil {
			delete(set, key)
			if len(set) == 0 {
				delete(t.byObject, m)
			}
		}
	}
}

// errNoSource is returned by waits before the owner's controller started the tracker's Source.
var errNoSource = errors.New("health checks: the tracker's Source is not added to a started controller")

// watchLocked starts watching gvk once; t.mu is held.
func (t *Tracker[P]) watchLocked(gvk schema.GroupVersionKind) error {
	if t.watched[gvk] {
		return nil
	}
	if t.queue == nil {
		return fmt.Errorf("watch %s: %w", gvk, errNoSource)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	src := source.Kind[client.Object](t.cache, u, wakeHandler[P]{t})
	if err := src.Start(t.ctx, t.queue); err != nil {
		return fmt.Errorf("watch %s for health checks: %w", gvk, err)
	}
	t.watched[gvk] = true
	return nil
}

// ownersOf maps a changed object of cluster ("" for this one, else a remote cluster's key) to
// the owners waiting on it there: the one that applied it (owner labels), if that one waits,
// and those whose waits name it (objects applied by others carry no owner labels of ours).
// Owners waiting on an object of the same name in another cluster (the same app on every
// spoke) are not woken. Updates of objects nobody waits on (the steady state) enqueue nothing.
func (t *Tracker[P]) ownersOf(cluster string, o client.Object) []ctrlreconcile.Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	var reqs []ctrlreconcile.Request
	wake := func(k types.NamespacedName) {
		if w := t.waiters[k]; w == nil || w.remote != cluster {
			return
		}
		if ch, held := t.held[k]; held {
			if ch != nil {
				close(ch)
				t.held[k] = nil
			}
			return
		}
		reqs = append(reqs, ctrlreconcile.Request{NamespacedName: k})
	}
	l := o.GetLabels()
	owner := types.NamespacedName{Namespace: l[t.labels.Namespace], Name: l[t.labels.Name]}
	if owner.Name != "" && owner.Namespace != "" {
		wake(owner)
	}
	gvk := o.GetObjectKind().GroupVersionKind()
	for k := range t.byObject[ObjMeta{Group: gvk.Group, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}] {
		if k != owner {
			wake(k)
		}
	}
	return reqs
}
