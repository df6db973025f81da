package reconcile_test

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/testkind"
	"gotk.dev/pkg/reconcile"
)

// laggingClient serves Gets from a snapshot taken earlier, as a watch cache that has not
// seen the last status write yet would.
type laggingClient struct {
	client.Client
	snapshot *testkind.TestObject
}

func (c *laggingClient) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	c.snapshot.DeepCopyInto(obj.(*testkind.TestObject))
	return nil
}

// TestRefreshReadsPastALaggingCache: when Refresh says the cached object may be stale,
// the steps see the object as the API server has it.
func TestRefreshReadsPastALaggingCache(t *testing.T) {
	var seen string
	h := newHarness(t, func(_ context.Context, obj *testkind.TestObject) (reconcile.Result, error) {
		seen = obj.Status.Message
		return reconcile.Done("done"), nil
	})
	h.create(t, "obj", nil)
	if _, err := h.reconcile(t, "obj"); err != nil { // adds the finalizer
		t.Fatal(err)
	}
	stale := h.get(t, "obj")
	// The controller's own last write, which the cache has not caught up with.
	fresh := stale.DeepCopy()
	fresh.Status.Message = "written"
	if err := env.Client.Status().Update(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	h.opts.Client = &laggingClient{Client: h.client, snapshot: stale}
	if _, err := h.reconcile(t, "obj"); err != nil {
		t.Fatal(err)
	}
	if seen != "" {
		t.Fatalf("without Refresh the steps see the cache: %q", seen)
	}
	h.opts.APIReader = env.Client
	h.opts.Refresh = func(obj *testkind.TestObject) bool { return obj.Status.Message != "written" }
	if _, err := h.reconcile(t, "obj"); err != nil {
		t.Fatal(err)
	}
	if seen != "written" {
		t.Fatalf("steps saw %q, want the object past the lagging cache", seen)
	}
}
