package ssa

import (
	"crypto/sha256"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// concurrency bounds the requests one call has in flight: enough to hide the round trip of
// a few objects, small enough that 1000 reconciles at once do not flood the API server.
const concurrency = 4

// memoryLimit bounds the number of objects the Manager remembers (about 200 bytes each).
const memoryLimit = 1 << 16

// Manager applies, prunes and diffs objects with server-side apply as one field owner.
// It is safe for concurrent use.
type Manager struct {
	client client.Client
	owner  Owner
	memory *memory
}

// NewManager returns a Manager that talks to the cluster through c, which may impersonate a
// service account. c should share its RESTMapper with the controller's other clients: each
// mapper discovers the API on its own.
func NewManager(c client.Client, owner Owner) *Manager {
	return &Manager{client: c, owner: owner, memory: newMemory()}
}

// WithClient returns a Manager using c that shares m's memory of applied objects, for a
// reconcile that impersonates a service account: keep one Manager per controller and derive
// one per reconcile, so the Created/Configured/Unchanged classification stays exact.
func (m *Manager) WithClient(c client.Client) *Manager {
	return &Manager{client: c, owner: m.owner, memory: m.memory}
}

// memory remembers, per object, what the API server answered to this Manager's last apply:
// the UID and resourceVersion of the response (see classify) and a digest of the request
// that produced exactly that state (see unchangedSinceApply). It is bounded: when full, an
// arbitrary quarter is forgotten (those objects are applied and classified from their
// managed fields once).
type memory struct {
	mu      sync.Mutex
	entries map[inventory.ObjMetadata]applied
}

// applied is what memory keeps of one object.
type applied struct {
	uid             types.UID
	resourceVersion string
	generation      int64
	// at is when the apply was answered.
	at time.Time
	// request is the digest of the apply request whose response had resourceVersion, while
	// the object is quiet (see remember); zero otherwise, and then the next reconcile
	// applies without reading first.
	request digest
}

// digest is the SHA-256 of an apply request's body: a tenant must not be able to make two
// manifests look alike.
type digest [sha256.Size]byte

func newMemory() *memory {
	return &memory{entries: make(map[inventory.ObjMetadata]applied)}
}

func (m *memory) get(id inventory.ObjMetadata) (applied, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.entries[id]
	return a, ok
}

func (m *memory) put(id inventory.ObjMetadata, a applied) {
	if a.uid == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[id]; !ok && len(m.entries) >= memoryLimit {
		drop := memoryLimit / 4
		for k := range m.entries {
			delete(m.entries, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	m.entries[id] = a
}

func (m *memory) forget(id inventory.ObjMetadata) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, id)
}
