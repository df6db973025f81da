package journeys_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"gotk.dev/e2e/framework"
)

// reconcileLog records when an object's successful reconciles happen, as the controller
// reports them: a ReconciliationSucceeded Kubernetes Event at the end of each one (a new
// Event, or a repeated one whose count goes up). Times are when the watch delivers them,
// milliseconds after the controller's, with better than the Event's one-second resolution.
type reconcileLog struct {
	begin  time.Time
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	times []time.Duration // since begin
	end   time.Time       // set by stop
}

// watchReconciles starts recording the successful reconciles of kind namespace/name from
// now on; stop ends it. The test fails if the Events cannot be watched.
func watchReconciles(t *testing.T, ctx context.Context, env *framework.Env, namespace, kind, name string) *reconcileLog {
	t.Helper()
	selector := fields.Set{
		"involvedObject.kind": kind, "involvedObject.namespace": namespace, "involvedObject.name": name,
		"reason": "ReconciliationSucceeded",
	}.AsSelector().String()
	events := env.Clientset.CoreV1().Events(namespace)
	list, err := events.List(ctx, metav1.ListOptions{FieldSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &reconcileLog{begin: time.Now(), cancel: cancel, done: make(chan struct{})}
	rv := list.ResourceVersion
	w, err := events.Watch(ctx, metav1.ListOptions{FieldSelector: selector, ResourceVersion: rv})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		defer close(l.done)
		for {
			rv = l.record(w)
			w.Stop()
			if ctx.Err() != nil {
				return
			}
			// The API server ended the watch: resume where it stopped.
			if w, err = events.Watch(ctx, metav1.ListOptions{FieldSelector: selector, ResourceVersion: rv}); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { l.stop() })
	return l
}

// record consumes w until it ends and returns the last resource version seen.
func (l *reconcileLog) record(w watch.Interface) string {
	var rv string
	for ev := range w.ResultChan() {
		e, ok := ev.Object.(*corev1.Event)
		if !ok {
			continue
		}
		rv = e.ResourceVersion
		if ev.Type == watch.Added || ev.Type == watch.Modified {
			l.mu.Lock()
			l.times = append(l.times, time.Since(l.begin))
			l.mu.Unlock()
		}
	}
	return rv
}

// stop ends the recording (once) and returns the reconcile times since the start, the
// largest gap (counting from the start to the first reconcile and from the last to the stop)
// and when that gap ended.
func (l *reconcileLog) stop() (times []time.Duration, largest, endedAt time.Duration) {
	l.cancel()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.end.IsZero() {
		l.end = time.Now()
	}
	prev := time.Duration(0)
	for _, at := range append(append([]time.Duration{}, l.times...), l.end.Sub(l.begin)) {
		if gap := at - prev; gap > largest {
			largest, endedAt = gap, at
		}
		prev = at
	}
	return append([]time.Duration{}, l.times...), largest, endedAt
}

// count is how many successful reconciles were recorded so far.
func (l *reconcileLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.times)
}

// waitFor waits until n successful reconciles are recorded; the test fails after timeout.
func (l *reconcileLog) waitFor(t *testing.T, ctx context.Context, n int, timeout time.Duration) {
	t.Helper()
	err := framework.Poll(ctx, timeout, fmt.Sprintf("%d successful reconciles", n), func(context.Context) (bool, error, error) {
		if got := l.count(); got < n {
			return false, fmt.Errorf("%d so far", got), nil
		}
		return true, nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// observed is how long the recording ran (up to now, or to stop).
func (l *reconcileLog) observed() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.end.IsZero() {
		return time.Since(l.begin)
	}
	return l.end.Sub(l.begin)
}
