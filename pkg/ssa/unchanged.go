package ssa

import (
	"context"
	"crypto/sha256"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// applyAtLeastEvery bounds how long an object is read instead of applied. Each apply goes
// through admission, as every periodic apply of upstream's controller does: a policy or
// webhook added since then still gets to see (and refuse) the object within this time.
const applyAtLeastEvery = time.Hour

// unchangedSinceApply returns the live object when applying data to it would be a no-op: our
// last apply of u sent exactly data, and nobody has written the object since its response
// (same UID and resourceVersion). Server-side apply is a function of the live object and the
// request, so the same request on the same object changes nothing. One read then replaces
// the apply, which costs the API server a decode, typed conversions and a merge even when it
// writes nothing (about twice the read's CPU). This makes the periodic reconcile of an
// unchanged Kustomization, and the objects an upgrade does not touch, cheap, with the same
// number of requests. The read is a quorum read: the watch cache's copy may lag an edit by a
// few milliseconds, and the edit would then stay until the next reconcile.
//
// It reads only objects remember found quiet, so that the read is rarely wasted on an object
// someone else writes (a Deployment whose status its controller updates after our change).
// Anything else (never applied by this Manager, another manifest, a write by anyone since,
// the last apply over applyAtLeastEvery ago, the object gone or being deleted, an error
// reading it) answers false: the caller applies as before, and the apply tells the rest.
func (m *Manager) unchangedSinceApply(ctx context.Context, u *unstructured.Unstructured, data []byte) (*unstructured.Unstructured, bool) {
	prev, ok := m.memory.get(inventory.FromObject(u))
	if !ok || prev.request != sha256.Sum256(data) || time.Since(prev.at) > applyAtLeastEvery {
		return nil, false
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(u.GroupVersionKind())
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(u), live); err != nil {
		return nil, false
	}
	if live.GetUID() != prev.uid || live.GetResourceVersion() != prev.resourceVersion || live.GetDeletionTimestamp() != nil {
		return nil, false
	}
	return live, true
}

// remember records the response u of an apply (or of a patch of its managed fields) that
// did action. request is the body of the apply that answered u, nil when the last request
// was not that apply; it is kept (as a digest) only when the object looks quiet, that is
// when nobody is expected to write it before our next apply:
//   - our apply was a no-op and nobody wrote the object since our previous apply; or
//   - our apply changed it without moving its generation (a kind without one, such as a
//     ConfigMap or a Service, or a change of metadata only). A new generation asks the
//     kind's controller to act and report in the status: a Deployment is written right
//     after, so reading it first next time would be a wasted request.
//
// An object someone keeps writing (an autoscaled Deployment, say) is therefore never read
// first; it is applied every reconcile, as without this memory.
func (m *Manager) remember(u *unstructured.Unstructured, request []byte, action Action) {
	id := inventory.FromObject(u)
	prev, known := m.memory.get(id)
	known = known && prev.uid == u.GetUID()
	a := applied{uid: u.GetUID(), resourceVersion: u.GetResourceVersion(), generation: u.GetGeneration(), at: time.Now()}
	var quiet bool
	switch {
	case action == Unchanged:
		quiet = known && prev.resourceVersion == u.GetResourceVersion()
	default:
		quiet = a.generation == 0 || (known && a.generation == prev.generation)
	}
	if request != nil && quiet {
		a.request = sha256.Sum256(request)
	}
	m.memory.put(id, a)
}
