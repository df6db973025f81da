package health

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var testLabels = OwnerLabels{Name: "owner.example/name", Namespace: "owner.example/namespace"}

// deployment is a Deployment applied by owner apps/<owner>, at resourceVersion rv.
func deployment(name, owner, rv string) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, ResourceVersion: rv,
		Labels: map[string]string{testLabels.Name: owner, testLabels.Namespace: "apps"}}}
	d.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	return d
}

// waitOn records that owner apps/<owner> waits on Deployment apps/<name>, as Wait does but
// without starting a watch (these tests feed the handler the watch's events themselves).
func waitOn(t *testing.T, tr *Tracker[string], owner, name string) client.Object {
	t.Helper()
	o := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: owner, UID: types.UID(owner)}}
	ref := Ref{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: name}
	key := client.ObjectKeyFromObject(o)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.waiters[key] = &Waiter[string]{UID: o.UID, Refs: []Ref{ref}}
	tr.byObject[ref.Meta()] = map[types.NamespacedName]struct{}{key: {}}
	return o
}

// TestWakeGoesAheadInTheQueue: an owner woken by a change of what it waits on is queued at
// WakePriority, ahead of requests already waiting at the default priority; a resync (same
// resourceVersion) and an object nobody waits on enqueue nothing.
func TestWakeGoesAheadInTheQueue(t *testing.T) {
	tr := NewTracker[string](nil, testLabels)
	waitOn(t, tr, "web", "web")
	q := priorityqueue.New[ctrlreconcile.Request]("test")
	defer q.ShutDown()
	for _, name := range []string{"a", "b", "c"} {
		q.Add(ctrlreconcile.Request{NamespacedName: types.NamespacedName{Namespace: "apps", Name: name}})
	}
	h := wakeHandler[string]{tr}
	ctx := context.Background()
	h.Update(ctx, event.TypedUpdateEvent[client.Object]{ObjectOld: deployment("web", "web", "1"), ObjectNew: deployment("web", "web", "1")}, q)
	h.Update(ctx, event.TypedUpdateEvent[client.Object]{ObjectOld: deployment("other", "other", "1"), ObjectNew: deployment("other", "other", "2")}, q)
	h.Update(ctx, event.TypedUpdateEvent[client.Object]{ObjectOld: deployment("web", "web", "1"), ObjectNew: deployment("web", "web", "2")}, q)

	item, priority, _ := q.GetWithPriority()
	if item.Name != "web" || priority != WakePriority {
		t.Fatalf("first out: %v at priority %d, want apps/web at %d", item, priority, WakePriority)
	}
	q.Done(item)
	if n := q.Len(); n != 3 {
		t.Errorf("%d requests left, want the 3 queued before (resyncs and unwatched objects add none)", n)
	}
}

// TestHoldTurnsWakesIntoSignals: while its reconcile holds the tracker, a change of what the
// owner waits on closes the hold's channel instead of enqueuing it; after Release it
// enqueues again.
func TestHoldTurnsWakesIntoSignals(t *testing.T) {
	tr := NewTracker[string](nil, testLabels)
	owner := waitOn(t, tr, "web", "web")
	q := priorityqueue.New[ctrlreconcile.Request]("test")
	defer q.ShutDown()
	h := wakeHandler[string]{tr}
	ctx := context.Background()
	changed := tr.Hold(owner)
	h.Create(ctx, event.TypedCreateEvent[client.Object]{Object: deployment("web", "web", "2")}, q)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("the held owner was not signalled")
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("a held owner was enqueued (%d requests)", n)
	}
	tr.Release(owner)
	h.Delete(ctx, event.TypedDeleteEvent[client.Object]{Object: deployment("web", "web", "3")}, q)
	item, priority, _ := q.GetWithPriority()
	if item.Name != "web" || priority != WakePriority {
		t.Fatalf("after Release: %v at priority %d", item, priority)
	}
}
