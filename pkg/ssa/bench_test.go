package ssa

import (
	"context"
	"testing"

	"gotk.dev/pkg/inventory"
)

// BenchmarkApplyUnchanged measures the steady state of a reconcile: re-applying the four
// podinfo objects, which the API server finds unchanged (4 requests per iteration).
func BenchmarkApplyUnchanged(b *testing.B) {
	env := cluster(b)
	ctx := context.Background()
	ns := newNamespaceB(b, env.Client)
	m := NewManager(env.Client, testOwner)
	objs := objects(b, ns, podinfo)
	if _, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{}); err != nil {
		b.Fatal(err)
	}
	inv := inventory.New(objs)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		fresh := objects(b, ns, podinfo)
		b.StartTimer()
		cs, err := m.ApplyAllStaged(ctx, fresh, ApplyOptions{PreviousInventory: inv})
		if err != nil {
			b.Fatal(err)
		}
		if len(cs.Changes().Entries) != 0 {
			b.Fatalf("changes: %s", cs.Changes())
		}
	}
}
