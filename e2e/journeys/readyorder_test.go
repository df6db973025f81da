package journeys_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// readyOrder records, from a watch of the Kustomizations of one namespace, the order in
// which each first became Ready. The API server sends the events of one watch in the order
// of the writes (resourceVersion), so the order is exact, unlike condition timestamps,
// which have a resolution of one second.
type readyOrder struct {
	mu     sync.Mutex
	order  []string
	seen   map[string]time.Time
	waited map[string]bool // reported Ready=False DependencyNotReady at least once
	closed bool            // the watch ended before the journey did
}

// watchReadyOrder starts recording; the watch ends with ctx. Start it before the
// Kustomizations exist.
func watchReadyOrder(t *testing.T, ctx context.Context, namespace string) *readyOrder {
	t.Helper()
	return watchReadyOrderIn(t, ctx, suite.env, namespace)
}

// watchReadyOrderIn is watchReadyOrder in the cluster of env.
func watchReadyOrderIn(t *testing.T, ctx context.Context, env *framework.Env, namespace string) *readyOrder {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx, &kustomizev1.KustomizationList{}, client.InNamespace(namespace))
	if err != nil {
		t.Fatalf("watch Kustomizations in %s: %v", namespace, err)
	}
	r := &readyOrder{seen: map[string]time.Time{}, waited: map[string]bool{}}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					r.mu.Lock()
					r.closed = ctx.Err() == nil
					r.mu.Unlock()
					return
				}
				if ev.Type != watch.Added && ev.Type != watch.Modified {
					continue
				}
				ks, isKs := ev.Object.(*kustomizev1.Kustomization)
				if !isKs {
					continue
				}
				if ready, _ := framework.Readiness(ks); ready {
					r.record(ks.Name)
				} else if c := condition(ks, "Ready"); c != nil && c.Reason == "DependencyNotReady" {
					r.mu.Lock()
					r.waited[ks.Name] = true
					r.mu.Unlock()
				}
			}
		}
	}()
	return r
}

func (r *readyOrder) record(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[name]; ok {
		return
	}
	r.seen[name] = time.Now()
	r.order = append(r.order, name)
}

// snapshot returns the names in the order they first became Ready, those that reported
// DependencyNotReady on the way, and whether the watch ended early (then the order may be
// incomplete).
func (r *readyOrder) snapshot() (order, waited []string, closedEarly bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name := range r.waited {
		waited = append(waited, name)
	}
	slices.Sort(waited)
	return append([]string(nil), r.order...), waited, r.closed
}

// index is the position of name in order, -1 when absent.
func index(order []string, name string) int {
	for i, n := range order {
		if n == name {
			return i
		}
	}
	return -1
}
