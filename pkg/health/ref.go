package health

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Ref names an object whose health is checked, with the API version a watch or a read of it
// needs.
type Ref struct {
	APIVersion, Kind, Namespace, Name string
}

// RefOf returns the Ref of obj.
func RefOf(o *unstructured.Unstructured) Ref {
	return Ref{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

// Meta returns the object's identity regardless of its API version.
func (r Ref) Meta() ObjMeta {
	group := ""
	if i := strings.Index(r.APIVersion, "/"); i > 0 {
		group = r.APIVersion[:i]
	}
	return ObjMeta{Namespace: r.Namespace, Name: r.Name, Group: group, Kind: r.Kind}
}

// GVK returns the object's group, version and kind.
func (r Ref) GVK() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind)
}

// StillWaiting keeps the refs whose objects a Summary reports as still in progress (or not
// found): what a pending check needs to look at again.
func StillWaiting(refs []Ref, waiting []ObjectResult) []Ref {
	keep := make(map[ObjMeta]bool, len(waiting))
	for _, w := range waiting {
		keep[w.Object] = true
	}
	out := make([]Ref, 0, len(waiting))
	for _, r := range refs {
		if keep[r.Meta()] {
			out = append(out, r)
		}
	}
	return out
}

// NotYetObserved stands in for an object a watch cache has not caught up with after an
// apply that moved it to generation: its observedGeneration lags, which every status rule
// reads as in progress.
func NotYetObserved(ref Ref, generation int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"status": map[string]any{"observedGeneration": generation - 1},
	}}
	u.SetAPIVersion(ref.APIVersion)
	u.SetKind(ref.Kind)
	u.SetNamespace(ref.Namespace)
	u.SetName(ref.Name)
	u.SetGeneration(generation)
	return u
}
