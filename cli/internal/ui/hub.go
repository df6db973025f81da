package ui

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"gotk.dev/cli/internal/fluxobj"
)

// Hub keeps every Flux object the server may show in memory, fed by one watch per kind
// (shared by every browser), and tells subscribers when anything changed. Pages are computed
// from it on demand; nothing polls the API server.
type Hub struct {
	log *slog.Logger

	mu      sync.RWMutex
	rows    map[objectKey]*Row
	objects map[objectKey]*unstructured.Unstructured
	// sorted is rows in overview order, rebuilt lazily after a change.
	sorted []*Row
	// version counts changes; changed is closed and replaced on each one.
	version uint64
	changed chan struct{}
	// synced is closed when every informer has listed once.
	synced chan struct{}
	// kinds are the kinds watched, with the namespace each is limited to ("" is all).
	kinds map[string]string
	// resources are the API resources of the kinds the cluster serves.
	resources map[string]schema.GroupVersionResource
}

// objectKey names one Flux object.
type objectKey struct {
	Kind, Namespace, Name string
}

func (k objectKey) String() string { return k.Kind + "/" + k.Namespace + "/" + k.Name }

// NewHub returns an empty hub; Start fills it.
func NewHub(log *slog.Logger) *Hub {
	return &Hub{
		log: log, rows: map[objectKey]*Row{}, objects: map[objectKey]*unstructured.Unstructured{},
		changed: make(chan struct{}), synced: make(chan struct{}), kinds: map[string]string{},
		resources: map[string]schema.GroupVersionResource{},
	}
}

// WatchScope decides, per kind, where the hub may watch: every namespace when the identity
// running the watches may list and watch the kind cluster-wide, else only fallback (the
// CLI's --namespace), else not at all. ok is false for kinds the cluster does not serve.
type WatchScope func(ctx context.Context, resource schema.GroupVersionResource) (namespace string, ok bool)

// ScopeByAccess is the WatchScope of a user's own credentials (flux ui): it asks the API
// server with SelfSubjectAccessReviews.
func ScopeByAccess(cs kubernetes.Interface, fallback string) WatchScope {
	can := func(ctx context.Context, r schema.GroupVersionResource, ns string) bool {
		for _, verb := range []string{"list", "watch"} {
			r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: ns, Verb: verb, Group: r.Group, Resource: r.Resource,
				}},
			}, metav1.CreateOptions{})
			if err != nil || !r.Status.Allowed {
				return false
			}
		}
		return true
	}
	return func(ctx context.Context, r schema.GroupVersionResource) (string, bool) {
		if can(ctx, r, "") {
			return "", true
		}
		if fallback != "" && can(ctx, r, fallback) {
			return fallback, true
		}
		return "", false
	}
}

// Start finds which Flux kinds the cluster serves (mapper) and starts one informer per kind
// within its scope. It returns at once; Synced tells when the first lists are in.
func (h *Hub) Start(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, scope WatchScope) error {
	var informers []cache.SharedIndexInformer
	factories := map[string]dynamicinformer.DynamicSharedInformerFactory{}
	for _, k := range fluxobj.Kinds() {
		m, err := mapper.RESTMapping(k.GVK().GroupKind(), k.GroupVersion.Version)
		if err != nil {
			h.log.Info("kind not served by the cluster, not watched", "kind", k.Kind, "error", err.Error())
			continue
		}
		r := m.Resource
		h.resources[k.Kind] = r
		ns, ok := scope(ctx, r)
		if !ok {
			h.log.Info("no right to list and watch the kind, not shown", "kind", k.Kind)
			continue
		}
		f, exists := factories[ns]
		if !exists {
			f = dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, nil)
			factories[ns] = f
		}
		inf := f.ForResource(r).Informer()
		// Browsers never see managedFields or the last-applied annotation: dropping them
		// before the cache keeps the server's memory to what pages show.
		if err := inf.SetTransform(trimObject); err != nil {
			return err
		}
		kind := k
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { h.upsert(kind, obj) },
			UpdateFunc: func(_, obj any) { h.upsert(kind, obj) },
			DeleteFunc: func(obj any) { h.remove(kind, obj) },
		}); err != nil {
			return err
		}
		h.kinds[k.Kind] = ns
		informers = append(informers, inf)
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	go func() {
		var syncs []cache.InformerSynced
		for _, inf := range informers {
			syncs = append(syncs, inf.HasSynced)
		}
		if cache.WaitForCacheSync(ctx.Done(), syncs...) {
			close(h.synced)
			h.log.Info("watching Flux objects", "kinds", len(informers), "objects", h.Len())
		}
	}()
	return nil
}

// Synced is closed once every watched kind has been listed.
func (h *Hub) Synced() <-chan struct{} { return h.synced }

// WaitSynced waits for Synced or the timeout.
func (h *Hub) WaitSynced(ctx context.Context, timeout time.Duration) error {
	select {
	case <-h.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(timeout):
		return fmt.Errorf("the Flux objects were not listed within %s", timeout)
	}
}

// trimObject drops what the UI never shows from an object before it is cached.
func trimObject(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	if a := u.GetAnnotations(); a != nil {
		if _, ok := a["kubectl.kubernetes.io/last-applied-configuration"]; ok {
			delete(a, "kubectl.kubernetes.io/last-applied-configuration")
			u.SetAnnotations(a)
		}
	}
	return u, nil
}

func (h *Hub) upsert(k fluxobj.Kind, obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key := objectKey{k.Kind, u.GetNamespace(), u.GetName()}
	row := rowOf(k, u)
	h.mu.Lock()
	h.rows[key] = row
	h.objects[key] = u
	h.bumpLocked()
	h.mu.Unlock()
}

func (h *Hub) remove(k fluxobj.Kind, obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key := objectKey{k.Kind, u.GetNamespace(), u.GetName()}
	h.mu.Lock()
	delete(h.rows, key)
	delete(h.objects, key)
	h.bumpLocked()
	h.mu.Unlock()
}

func (h *Hub) bumpLocked() {
	h.version++
	h.sorted = nil
	close(h.changed)
	h.changed = make(chan struct{})
}

// Changed returns the current version and a channel closed at the next change.
func (h *Hub) Changed() (uint64, <-chan struct{}) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.version, h.changed
}

// Len is the number of objects held.
func (h *Hub) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.rows)
}

// Get returns the cached object (shared: do not modify) and its row.
func (h *Hub) Get(key objectKey) (*unstructured.Unstructured, *Row, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	u, ok := h.objects[key]
	return u, h.rows[key], ok
}

// Rows returns every row in overview order (failures first, then kind, namespace, name).
// The slice is shared: do not modify.
func (h *Hub) Rows() []*Row {
	h.mu.RLock()
	if h.sorted != nil {
		defer h.mu.RUnlock()
		return h.sorted
	}
	h.mu.RUnlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sorted == nil {
		rows := make([]*Row, 0, len(h.rows))
		for _, r := range h.rows {
			rows = append(rows, r)
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].less(rows[j]) })
		h.sorted = rows
	}
	return h.sorted
}

// Objects calls fn for every cached object of kind (shared: do not modify).
func (h *Hub) Objects(kind string, fn func(*unstructured.Unstructured)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for k, u := range h.objects {
		if k.Kind == kind {
			fn(u)
		}
	}
}

// Watched reports whether kind is watched and in which namespace ("" is all).
func (h *Hub) Watched(kind string) (string, bool) {
	ns, ok := h.kinds[kind]
	return ns, ok
}

// Resource is the API resource of kind, when the cluster serves it.
func (h *Hub) Resource(kind string) (schema.GroupVersionResource, bool) {
	r, ok := h.resources[kind]
	return r, ok
}
