package ssa

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// concurrency bounds the requests one call has in flight: enough to hide the round trip of
// a few objects, small enough that 1000 reconciles at once do not flood the API server.
const concurrency = 4

// memoryLimit bounds the number of objects the Manager remembers (about 80 bytes each).
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
	return &Manager{client: c, owner: owner, memory: &memory{entries: make(map[types.UID]string)}}
}

// WithClient returns a Manager using c that shares m's memory of applied objects, for a
// reconcile that impersonates a service account: keep one Manager per controller and derive
// one per reconcile, so the Created/Configured/Unchanged classification stays exact.
func (m *Manager) WithClient(c client.Client) *Manager {
	return &Manager{client: c, owner: m.owner, memory: m.memory}
}

// memory maps object UIDs to the resourceVersion of the API server's response to their last
// apply by this Manager. It is bounded: when full, an arbitrary
// quarter is forgotten (those objects fall back to the managed-fields heuristic once).
type memory struct {
	mu      sync.Mutex
	entries map[types.UID]string
}

func (m *memory) get(uid types.UID) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.entries[uid]
	return a, ok
}

func (m *memory) put(uid types.UID, resourceVersion string) {
	if uid == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[uid]; !ok && len(m.entries) >= memoryLimit {
		drop := memoryLimit / 4
		for k := range m.entries {
			delete(m.entries, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	m.entries[uid] = resourceVersion
}

func (m *memory) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, uid)
}
