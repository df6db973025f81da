package timeline

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestRingKeepsTheNewestAndCountsWhatItMissed(t *testing.T) {
	r := New()
	for i := range Size + 10 {
		r.Record(Span{Name: "obj", Generation: int64(i + 1)})
	}
	p := r.Since(0)
	if len(p.Spans) != Size || p.Missed != 10 || p.Next != Size+11 {
		t.Fatalf("since 0: %d spans, missed %d, next %d; want %d, 10, %d", len(p.Spans), p.Missed, p.Next, Size, Size+11)
	}
	if p.Spans[0].Seq != 11 || p.Spans[0].Generation != 11 || p.Spans[Size-1].Seq != Size+10 {
		t.Errorf("oldest %+v newest %+v", p.Spans[0], p.Spans[Size-1])
	}
	r.Record(Span{Name: "last"})
	p = r.Since(p.Next)
	if len(p.Spans) != 1 || p.Spans[0].Name != "last" || p.Missed != 0 {
		t.Errorf("since next: %+v", p)
	}
	if p := r.Since(p.Next); len(p.Spans) != 0 || p.Missed != 0 {
		t.Errorf("nothing new: %+v", p)
	}
	var nilRecorder *Recorder
	nilRecorder.Record(Span{}) // a nil recorder records nothing, without panicking
}

func TestHandler(t *testing.T) {
	r := New()
	r.Record(Span{Kind: "Kustomization", Name: "a", Outcome: Ready, Steps: []Step{{Name: "apply", Seconds: 0.25}}})
	r.Record(Span{Kind: "Kustomization", Name: "b", Outcome: Progressing})
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/debug/reconciles?since=2", nil))
	var p Page
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Spans) != 1 || p.Spans[0].Name != "b" || p.Next != 3 {
		t.Errorf("page %+v", p)
	}
	w = httptest.NewRecorder()
	r.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/debug/reconciles?since=x", nil))
	if w.Code != 400 {
		t.Errorf("since=x: %d", w.Code)
	}
}

// testQueue is a timed queue whose clock the test sets.
func testQueue(t *testing.T) (*Recorder, *queue, *time.Time) {
	t.Helper()
	r := New()
	rl := workqueue.NewTypedItemExponentialFailureRateLimiter[ctrlreconcile.Request](time.Second, time.Minute)
	q := r.NewQueue("kustomization", rl).(*queue)
	t.Cleanup(q.ShutDown)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q.now = func() time.Time { return now }
	return r, q, &now
}

func req(name string) ctrlreconcile.Request {
	return ctrlreconcile.Request{NamespacedName: types.NamespacedName{Namespace: "apps", Name: name}}
}

func get(t *testing.T, q *queue) ctrlreconcile.Request {
	t.Helper()
	got := make(chan ctrlreconcile.Request, 1)
	go func() { item, _ := q.Get(); got <- item }()
	select {
	case item := <-got:
		return item
	case <-time.After(10 * time.Second):
		t.Fatal("queue handed nothing out")
		return ctrlreconcile.Request{}
	}
}

func TestQueueRecordsWhenARequestBecameReady(t *testing.T) {
	r, q, now := testQueue(t)
	added := *now
	q.Add(req("a"))
	*now = now.Add(time.Minute)
	q.AddAfter(req("a"), time.Hour) // merged: the earlier ready time stands
	if got := get(t, q); got != req("a") {
		t.Fatalf("got %v", got)
	}
	if at := r.QueuedAt("Kustomization", req("a")); !at.Equal(added) {
		t.Errorf("QueuedAt = %v, want the first add %v", at, added)
	}
	if at := r.QueuedAt("OCIRepository", req("a")); !at.IsZero() {
		t.Errorf("another kind's queue answered %v", at)
	}

	// Added again while a worker holds it: it waits for the worker from Done on.
	q.Add(req("a"))
	*now = now.Add(time.Minute)
	done := *now
	q.Done(req("a"))
	if at := r.QueuedAt("Kustomization", req("a")); !at.IsZero() {
		t.Errorf("QueuedAt after Done = %v, want zero", at)
	}
	get(t, q)
	if at := r.QueuedAt("Kustomization", req("a")); !at.Equal(done) {
		t.Errorf("QueuedAt of a request re-added while held = %v, want Done's %v", at, done)
	}
	q.Done(req("a"))
}

func TestQueueRateLimitedAddsAreReadyAfterTheirDelay(t *testing.T) {
	r, q, now := testQueue(t)
	start := *now
	q.AddWithOpts(priorityqueue.AddOpts{RateLimited: true}, req("b")) // 1s, the limiter's first delay
	if q.NumRequeues(req("b")) != 1 {
		t.Errorf("the limiter was asked %d times, want once", q.NumRequeues(req("b")))
	}
	get(t, q) // the real queue waits the real second
	if at := r.QueuedAt("Kustomization", req("b")); !at.Equal(start.Add(time.Second)) {
		t.Errorf("QueuedAt = %v, want %v", at, start.Add(time.Second))
	}
}
