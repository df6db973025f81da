package controller

import (
	"sync"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// pendingEntry remembers an applied revision whose health checks are still running.
type pendingEntry struct {
	uid        types.UID
	generation int64
	digest     string
	token      string
	deadline   time.Time
	refs       []objectRef
	fresh      []*unstructured.Unstructured
	// appliedGen holds the generation each apply response had, to tell a watch cache that
	// has not seen our apply yet from the truth (the responses themselves are not kept:
	// 1000 Kustomizations waiting at once would hold 4000 whole objects).
	appliedGen map[objectRef]int64
	revision   string
	origin     string
	digestSet  string
	started    time.Time
}

// pendingHealth is the in-memory set of Kustomizations waiting on health checks. After a
// restart it is empty, and the next reconcile applies again (a no-op) and re-evaluates.
//
// It also indexes the objects each waiting Kustomization checks: spec.healthChecks may name
// objects another controller created (a Deployment of a HelmRelease), which carry no owner
// labels of ours, and an update of one of them must wake the Kustomizations waiting on it.
type pendingHealth struct {
	mu       sync.Mutex
	m        map[types.NamespacedName]*pendingEntry
	byObject map[checkedKey]map[types.NamespacedName]struct{}
}

// checkedKey identifies a checked object regardless of the API version it was named with.
type checkedKey struct {
	Group, Kind, Namespace, Name string
}

func (r objectRef) key() checkedKey {
	m := r.meta()
	return checkedKey{Group: m.Group, Kind: m.Kind, Namespace: m.Namespace, Name: m.Name}
}

func newPendingHealth() *pendingHealth {
	return &pendingHealth{m: map[types.NamespacedName]*pendingEntry{}, byObject: map[checkedKey]map[types.NamespacedName]struct{}{}}
}

func keyOf(obj *kustomizev1.Kustomization) types.NamespacedName {
	return types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}
}

// get returns obj's entry; an entry of an earlier object with the same name does not count.
func (p *pendingHealth) get(obj *kustomizev1.Kustomization) *pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.m[keyOf(obj)]; e != nil && e.uid == obj.UID {
		return e
	}
	return nil
}

func (p *pendingHealth) set(obj *kustomizev1.Kustomization, e *pendingEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := keyOf(obj)
	old := p.m[k]
	if old == e {
		return
	}
	if old != nil {
		p.unindex(k, old)
	}
	p.m[k] = e
	for _, ref := range e.refs {
		ck := ref.key()
		set := p.byObject[ck]
		if set == nil {
			set = map[types.NamespacedName]struct{}{}
			p.byObject[ck] = set
		}
		set[k] = struct{}{}
	}
}

func (p *pendingHealth) clear(obj *kustomizev1.Kustomization) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := keyOf(obj)
	if e := p.m[k]; e != nil {
		p.unindex(k, e)
		delete(p.m, k)
	}
}

// unindex removes the checked objects of e (the entry of k) from the index; p.mu is held.
func (p *pendingHealth) unindex(k types.NamespacedName, e *pendingEntry) {
	for _, ref := range e.refs {
		ck := ref.key()
		if set := p.byObject[ck]; set != nil {
			delete(set, k)
			if len(set) == 0 {
				delete(p.byObject, ck)
			}
		}
	}
}

// waiting reports whether the Kustomization key has pending health checks.
func (p *pendingHealth) waiting(key types.NamespacedName) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[key] != nil
}

// waitersOf returns the Kustomizations whose pending health checks include the object.
func (p *pendingHealth) waitersOf(key checkedKey) []types.NamespacedName {
	p.mu.Lock()
	defer p.mu.Unlock()
	set := p.byObject[key]
	if len(set) == 0 {
		return nil
	}
	out := make([]types.NamespacedName, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}

// matches reports whether obj is waiting on health checks of exactly this generation, source
// artifact and reconcile request, so nothing needs building or applying.
func (p *pendingHealth) matches(obj *kustomizev1.Kustomization, a *meta.Artifact) bool {
	e := p.get(obj)
	if e == nil {
		return false
	}
	token, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations())
	return e.generation == obj.Generation && e.digest == a.Digest && token == e.token
}
