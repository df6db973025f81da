package dispatch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// funcNotifier adapts a function; the dispatcher only sees the Notifier interface.
type funcNotifier func(ctx context.Context, ev eventv1.Event) error

func (f funcNotifier) Post(ctx context.Context, ev eventv1.Event) error { return f(ctx, ev) }

func ev(msg string) eventv1.Event { return eventv1.Event{Message: msg} }

// TestSlowProviderDoesNotBlockOthers: a provider stuck for seconds delays none of the events
// of another provider.
func TestSlowProviderDoesNotBlockOthers(t *testing.T) {
	d, err := New(Options{QueueSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop(context.Background())
	release := make(chan struct{})
	slow := funcNotifier(func(ctx context.Context, _ eventv1.Event) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	var fastDone sync.WaitGroup
	fast := funcNotifier(func(context.Context, eventv1.Event) error { fastDone.Done(); return nil })

	for i := 0; i < 5; i++ {
		if err := d.Enqueue(context.Background(), Provider{"ns", "slow", "generic"}, slow, ev("s")); err != nil {
			t.Fatal(err)
		}
	}
	fastDone.Add(10)
	start := time.Now()
	for i := 0; i < 10; i++ {
		if err := d.Enqueue(context.Background(), Provider{"ns", "fast", "slack"}, fast, ev("f")); err != nil {
			t.Fatal(err)
		}
	}
	fastDone.Wait()
	if time.Since(start) > time.Second {
		t.Errorf("the fast provider waited %v behind the slow one", time.Since(start))
	}
	close(release)
}

func TestQueueBoundAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	block := make(chan struct{})
	var results []Result
	var mu sync.Mutex
	d, err := New(Options{QueueSize: 2, Registerer: reg, OnResult: func(r Result) { mu.Lock(); results = append(results, r); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	p := Provider{"ns", "p", "generic"}
	n := funcNotifier(func(_ context.Context, e eventv1.Event) error {
		<-block
		if e.Message == "fail" {
			return errors.New("boom")
		}
		return nil
	})
	// One in flight (blocked), two queued, the rest dropped.
	var dropped int
	for i, m := range []string{"ok", "fail", "ok", "x", "y"} {
		if err := d.Enqueue(context.Background(), p, n, ev(m)); errors.Is(err, ErrQueueFull) {
			dropped++
		} else if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			time.Sleep(50 * time.Millisecond) // let the worker take the first one
		}
	}
	if dropped != 2 {
		t.Fatalf("dropped %d, want 2", dropped)
	}
	close(block)
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := testutil.ToFloat64(d.dispatched.WithLabelValues("ns", "p", "generic")); v != 2 {
		t.Errorf("dispatched = %v, want 2", v)
	}
	if v := testutil.ToFloat64(d.failed.WithLabelValues("ns", "p", "generic")); v != 1 {
		t.Errorf("failed = %v, want 1", v)
	}
	if v := testutil.ToFloat64(d.dropped.WithLabelValues("ns", "p", "generic")); v != 2 {
		t.Errorf("dropped = %v, want 2", v)
	}
	if len(results) != 3 || results[1].Err == nil {
		t.Errorf("results = %+v", results)
	}
	if err := d.Enqueue(context.Background(), p, n, ev("late")); !errors.Is(err, ErrStopped) {
		t.Errorf("Enqueue after Stop = %v", err)
	}
}

func TestOrderPerProvider(t *testing.T) {
	d, _ := New(Options{QueueSize: 100})
	var mu sync.Mutex
	var got []string
	n := funcNotifier(func(_ context.Context, e eventv1.Event) error {
		mu.Lock()
		got = append(got, e.Message)
		mu.Unlock()
		return nil
	})
	want := []string{}
	for i := 0; i < 50; i++ {
		m := string(rune('a' + i%26))
		want = append(want, m)
		_ = d.Enqueue(context.Background(), Provider{"ns", "p", "github"}, n, ev(m))
	}
	_ = d.Stop(context.Background())
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivery %d = %q, want %q (order lost)", i, got[i], want[i])
		}
	}
}

func TestStopCancelsInFlight(t *testing.T) {
	d, _ := New(Options{})
	var cancelled atomic.Bool
	n := funcNotifier(func(ctx context.Context, _ eventv1.Event) error {
		<-ctx.Done()
		cancelled.Store(true)
		return ctx.Err()
	})
	_ = d.Enqueue(context.Background(), Provider{"ns", "p", "generic"}, n, ev("x"))
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop = %v", err)
	}
	if !cancelled.Load() {
		t.Error("the in-flight delivery was not cancelled")
	}
}

func TestForget(t *testing.T) {
	d, _ := New(Options{})
	defer d.Stop(context.Background())
	done := make(chan struct{})
	n := funcNotifier(func(context.Context, eventv1.Event) error { close(done); return nil })
	_ = d.Enqueue(context.Background(), Provider{"ns", "p", "generic"}, n, ev("x"))
	d.Forget("ns", "p")
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the queued event was not delivered after Forget")
	}
}
