package health

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// RemoteCluster is a cluster other than the manager's (an object's spec.kubeConfig), as one
// identity. pkg/cluster's Target implements it.
type RemoteCluster interface {
	// ClusterKey identifies the cluster, the identity and the kubeconfig they came from:
	// waits with the same key share one cache per namespace.
	ClusterKey() string
	// NewCache builds a cache of the cluster (not started) with opts.
	NewCache(opts cache.Options) (cache.Cache, error)
	// Reader reads from the cluster's API, for objects nobody waits on.
	Reader() client.Reader
}

// remoteKey names the cache of one namespace of one remote cluster ("" for cluster-scoped
// objects).
type remoteKey struct {
	cluster, namespace string
}

// remoteCache is a running cache of a remote cluster's namespace and who uses it.
type remoteCache struct {
	cache  cache.Cache
	ctx    context.Context
	cancel context.CancelFunc
	// kinds are the kinds whose informers were asked for.
	kinds map[schema.GroupVersionKind]bool
	// owners are the owners whose waits name objects of this cache.
	owners map[types.NamespacedName]struct{}
}

// watchRemoteLocked makes owner a user of the caches of remote that refs need, building
// (and starting) those that do not run yet. It returns the informer starts to run once t.mu
// is released. t.mu is held.
func (t *Tracker[P]) watchRemoteLocked(owner types.NamespacedName, remote RemoteCluster, refs []Ref) ([]func(), error) {
	if t.queue == nil {
		return nil, errNoSource
	}
	var starts []func()
	for _, r := range refs {
		rk := remoteKey{cluster: remote.ClusterKey(), namespace: r.Namespace}
		rc := t.remotes[rk]
		if rc == nil {
			opts := cache.Options{}
			if r.Namespace != "" {
				// A tenant's identity on the spoke may list only its own namespaces.
				opts.DefaultNamespaces = map[string]cache.Config{r.Namespace: {}}
			}
			c, err := remote.NewCache(opts)
			if err != nil {
				return starts, err
			}
			ctx, cancel := context.WithCancel(t.ctx)
			rc = &remoteCache{cache: c, ctx: ctx, cancel: cancel, kinds: map[schema.GroupVersionKind]bool{}, owners: map[types.NamespacedName]struct{}{}}
			t.remotes[rk] = rc
			go func() {
				if err := c.Start(ctx); err != nil {
					ctrl.Log.WithName("health").Error(err, "remote watch cache stopped", "cluster", rk.cluster, "namespace", rk.namespace)
				}
			}()
		}
		rc.owners[owner] = struct{}{}
		if gvk := r.GVK(); !rc.kinds[gvk] {
			rc.kinds[gvk] = true
			starts = append(starts, func() { t.startRemoteInformer(rk, rc, gvk) })
		}
	}
	return starts, nil
}

// startRemoteInformer asks rc for gvk's informer without waiting for it to sync and wakes
// the waiting owners on its events (the initial list included). On failure the kind is
// asked for again by the next wait.
func (t *Tracker[P]) startRemoteInformer(rk remoteKey, rc *remoteCache, gvk schema.GroupVersionKind) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	fail := func(err error) {
		ctrl.Log.WithName("health").Error(err, "watch for health checks", "cluster", rk.cluster, "namespace", rk.namespace, "kind", gvk.String())
		t.mu.Lock()
		delete(rc.kinds, gvk)
		t.mu.Unlock()
	}
	inf, err := rc.cache.GetInformer(rc.ctx, u, cache.BlockUntilSynced(false))
	if err != nil {
		fail(err)
		return
	}
	enqueue := func(obj any) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		o, ok := obj.(client.Object)
		if !ok {
			return
		}
		addWoken(t.queue, t.ownersOf(rk.cluster, o)) // ahead of other work, as local wakes
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, o any) { enqueue(o) },
		DeleteFunc: enqueue,
	}); err != nil {
		fail(err)
	}
}

// releaseRemoteLocked drops owner from the caches w used, except those in keep, and stops
// the caches nobody uses any more. t.mu is held.
func (t *Tracker[P]) releaseRemoteLocked(owner types.NamespacedName, w *Waiter[P], keep map[remoteKey]bool) {
	for _, r := range w.Refs {
		rk := remoteKey{cluster: w.remote, namespace: r.Namespace}
		if keep[rk] {
			continue
		}
		rc := t.remotes[rk]
		if rc == nil {
			continue
		}
		delete(rc.owners, owner)
		if len(rc.owners) == 0 {
			rc.cancel()
			delete(t.remotes, rk)
		}
	}
}

// remoteReader returns where to read ref of remote from: its cache when one runs for the
// object's namespace (and whether that kind has synced), else the remote API.
func (t *Tracker[P]) remoteReader(ctx context.Context, remote RemoteCluster, ref Ref) (client.Reader, bool, error) {
	t.mu.Lock()
	rc := t.remotes[remoteKey{cluster: remote.ClusterKey(), namespace: ref.Namespace}]
	t.mu.Unlock()
	if rc == nil {
		return remote.Reader(), true, nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ref.GVK())
	inf, err := rc.cache.GetInformer(ctx, u, cache.BlockUntilSynced(false))
	if err != nil {
		return nil, false, err
	}
	return rc.cache, inf.HasSynced(), nil
}

// RemoteWatches is how many remote caches run (one per remote cluster and namespace that
// something waits on): for tests and metrics.
func (t *Tracker[P]) RemoteWatches() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.remotes)
}
