package health

import (
	"context"
	"slices"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// WakePriority is the work-queue priority of an owner woken by a change of an object it
// waits on. A woken owner only looks at its objects in the cache and patches its status (no
// build, no apply), and it is the last step before Ready: it goes ahead of the owners that
// still have everything to do, instead of waiting behind all of them (a thousand
// Kustomizations applied at once queue up for many seconds).
const WakePriority = 10

// wakeHandler enqueues, for each change of a watched object, the owners waiting on it
// (Tracker.ownersOf), at WakePriority when the controller's queue has priorities.
type wakeHandler[P any] struct{ t *Tracker[P] }

type requestQueue = workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]

func (h wakeHandler[P]) Create(ctx context.Context, e event.TypedCreateEvent[client.Object], q requestQueue) {
	h.wake(ctx, e.Object, q)
}

func (h wakeHandler[P]) Update(ctx context.Context, e event.TypedUpdateEvent[client.Object], q requestQueue) {
	if e.ObjectOld != nil && e.ObjectNew != nil && e.ObjectOld.GetResourceVersion() == e.ObjectNew.GetResourceVersion() {
		return // a resync: nothing changed
	}
	h.wake(ctx, e.ObjectNew, q, e.ObjectOld) // the old labels may name another owner
}

func (h wakeHandler[P]) Delete(ctx context.Context, e event.TypedDeleteEvent[client.Object], q requestQueue) {
	h.wake(ctx, e.Object, q)
}

func (h wakeHandler[P]) Generic(ctx context.Context, e event.TypedGenericEvent[client.Object], q requestQueue) {
	h.wake(ctx, e.Object, q)
}

func (h wakeHandler[P]) wake(ctx context.Context, o client.Object, q requestQueue, old ...client.Object) {
	var reqs []ctrlreconcile.Request
	for _, o := range append([]client.Object{o}, old...) {
		if o == nil {
			continue
		}
		for _, r := range h.t.ownersOf("", o) {
			if !slices.Contains(reqs, r) {
				reqs = append(reqs, r)
			}
		}
	}
	addWoken(q, reqs)
}

// Wake queues owner's reconcile now, ahead of other work (WakePriority).
func (t *Tracker[P]) Wake(owner client.Object) {
	t.mu.Lock()
	q := t.queue
	t.mu.Unlock()
	if q != nil {
		addWoken(q, []ctrlreconcile.Request{{NamespacedName: client.ObjectKeyFromObject(owner)}})
	}
}

// addWoken adds reqs at WakePriority when q has priorities.
func addWoken(q requestQueue, reqs []ctrlreconcile.Request) {
	if len(reqs) == 0 {
		return
	}
	if pq, ok := q.(priorityqueue.PriorityQueue[ctrlreconcile.Request]); ok {
		priority := WakePriority
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: &priority}, reqs...)
		return
	}
	for _, r := range reqs {
		q.Add(r)
	}
}
