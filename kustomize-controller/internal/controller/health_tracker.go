package controller

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// HealthTracker watches the kinds that Kustomizations wait on. A watch starts the first time
// a Kustomization waits on a kind and then serves every later check of that kind from the
// cache: health checking costs no API requests and holds no worker.
type HealthTracker struct {
	mu      sync.Mutex
	ctrl    controller.Controller
	cache   cache.Cache
	watched map[schema.GroupVersionKind]bool
	// pending is the reconciler's set of Kustomizations waiting on health checks, so updates
	// of objects nobody waits on (the steady state) trigger nothing.
	pending *pendingHealth
}

// NewHealthTracker creates a tracker; the reconciler binds it to its controller.
func NewHealthTracker() *HealthTracker {
	return &HealthTracker{watched: map[schema.GroupVersionKind]bool{}}
}

func (t *HealthTracker) bind(c controller.Controller, ca cache.Cache) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ctrl, t.cache = c, ca
}

// Watch starts watching gvk once.
func (t *HealthTracker) Watch(ctx context.Context, gvk schema.GroupVersionKind) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.watched[gvk] {
		return nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	src := source.Kind[client.Object](t.cache, u, handler.EnqueueRequestsFromMapFunc(t.ownerOf))
	if err := t.ctrl.Watch(src); err != nil {
		return fmt.Errorf("watch %s for health checks: %w", gvk, err)
	}
	t.watched[gvk] = true
	return nil
}

// Get reads an object from the watch cache; nil when it does not exist.
func (t *HealthTracker) Get(ctx context.Context, gvk schema.GroupVersionKind, key types.NamespacedName) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := t.cache.Get(ctx, key, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return u, nil
}

// ownerOf maps an object to the Kustomizations waiting on its health: the one that applied
// it (owner labels), if that one is waiting, and those whose spec.healthChecks name it
// (objects of other controllers carry no owner labels of ours).
func (t *HealthTracker) ownerOf(_ context.Context, o client.Object) []ctrlreconcile.Request {
	if t.pending == nil {
		return nil
	}
	var reqs []ctrlreconcile.Request
	l := o.GetLabels()
	name, ns := l[ownerLabelName], l[ownerLabelNamespace]
	owner := types.NamespacedName{Namespace: ns, Name: name}
	if name != "" && ns != "" && t.pending.waiting(owner) {
		reqs = append(reqs, ctrlreconcile.Request{NamespacedName: owner})
	}
	gvk := o.GetObjectKind().GroupVersionKind()
	for _, k := range t.pending.waitersOf(checkedKey{Group: gvk.Group, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}) {
		if k != owner {
			reqs = append(reqs, ctrlreconcile.Request{NamespacedName: k})
		}
	}
	return reqs
}
