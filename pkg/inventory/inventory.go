// Package inventory records which objects an applier owns: a list of {id, v} entries where
// id is '<namespace>_<name>_<group>_<kind>' and v is the version of the object's API (e.g.
// "v1" for apps/v1), the shape of a Kustomization's status.inventory. Controllers keep it in
// their own API type and convert (the entries have the same fields).
//
// The id format is the one of sigs.k8s.io/cli-utils (used by upstream Flux), so an inventory
// written by upstream kustomize-controller is read unchanged and vice versa: the namespace is
// empty for cluster-scoped objects, the group is empty for the core API group, and colons in
// the names of RBAC objects (system:controller:foo) are written as a double underscore.
package inventory

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Entry is one object of an inventory.
type Entry struct {
	// ID is '<namespace>_<name>_<group>_<kind>'.
	ID string
	// Version is the version of the object's API group ("v1" for apps/v1).
	Version string
}

// Inventory is the set of objects an applier owns, in apply order.
type Inventory struct {
	Entries []Entry
}

// Add appends an entry for o at version.
func (inv *Inventory) Add(o ObjMetadata, version string) {
	inv.Entries = append(inv.Entries, Entry{ID: o.ID(), Version: version})
}

// VersionOf returns the version recorded for id, or "".
func (inv *Inventory) VersionOf(id string) string {
	if inv != nil {
		for _, e := range inv.Entries {
			if e.ID == id {
				return e.Version
			}
		}
	}
	return ""
}

const (
	// separator separates the fields of an id; it cannot occur in a namespace, group or kind,
	// nor in the name of an object that is not an RBAC object.
	separator = "_"
	// colonEncoded stands for ':' in the names of RBAC objects, which may contain colons.
	colonEncoded = "__"
	rbacGroup    = "rbac.authorization.k8s.io"
)

// ObjMetadata identifies an object in the cluster without its API version.
type ObjMetadata struct {
	Namespace string
	Name      string
	Group     string
	Kind      string
}

// FromObject returns the identity of obj.
func FromObject(obj *unstructured.Unstructured) ObjMetadata {
	gvk := obj.GroupVersionKind()
	return ObjMetadata{Namespace: obj.GetNamespace(), Name: obj.GetName(), Group: gvk.Group, Kind: gvk.Kind}
}

// GroupKind returns the object's group and kind.
func (o ObjMetadata) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: o.Group, Kind: o.Kind}
}

// String formats the object for messages as "Kind/namespace/name" ("Kind/name" when the
// object is cluster-scoped), the form Flux uses in events and logs.
func (o ObjMetadata) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// ID formats the object as an inventory id: '<namespace>_<name>_<group>_<kind>'.
func (o ObjMetadata) ID() string {
	name := o.Name
	if o.Group == rbacGroup && isRBACKind(o.Kind) {
		name = strings.ReplaceAll(name, ":", colonEncoded)
	}
	var b strings.Builder
	b.Grow(len(o.Namespace) + len(name) + len(o.Group) + len(o.Kind) + 3)
	b.WriteString(o.Namespace)
	b.WriteString(separator)
	b.WriteString(name)
	b.WriteString(separator)
	b.WriteString(o.Group)
	b.WriteString(separator)
	b.WriteString(o.Kind)
	return b.String()
}

func isRBACKind(kind string) bool {
	switch kind {
	case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
		return true
	}
	return false
}

// Parse reads an inventory id. The namespace ends at the first separator and the kind starts
// after the last; the group is the field before the kind (groups and kinds never contain
// '_'), and what is left is the name, in which '__' stands for ':'.
func Parse(id string) (ObjMetadata, error) {
	first := strings.Index(id, separator)
	last := strings.LastIndex(id, separator)
	if first < 0 || first == last {
		return ObjMetadata{}, fmt.Errorf("invalid inventory id %q: want <namespace>_<name>_<group>_<kind>", id)
	}
	kind := id[last+1:]
	rest := id[first+1 : last] // <name>_<group>
	g := strings.LastIndex(rest, separator)
	if g < 0 {
		return ObjMetadata{}, fmt.Errorf("invalid inventory id %q: want <namespace>_<name>_<group>_<kind>", id)
	}
	name := strings.ReplaceAll(rest[:g], colonEncoded, ":")
	if strings.Contains(name, separator) {
		return ObjMetadata{}, fmt.Errorf("invalid inventory id %q: too many fields", id)
	}
	o := ObjMetadata{Namespace: id[:first], Name: name, Group: rest[g+1:], Kind: kind}
	if o.Name == "" || o.Kind == "" {
		return ObjMetadata{}, fmt.Errorf("invalid inventory id %q: empty name or kind", id)
	}
	return o, nil
}

// New records objs as an inventory, in their order, each object once. Objects are identified
// by their namespace, name, group and kind; the entry's version is the version of the
// object's apiVersion ("v1" for both "v1" and "apps/v1").
func New(objs []*unstructured.Unstructured) *Inventory {
	inv := &Inventory{Entries: make([]Entry, 0, len(objs))}
	seen := make(map[string]struct{}, len(objs))
	for _, obj := range objs {
		id := FromObject(obj).ID()
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		inv.Entries = append(inv.Entries, Entry{ID: id, Version: obj.GroupVersionKind().Version})
	}
	return inv
}

// Diff returns the objects of old that are not in new: those to prune. Entries are compared
// by id only, so an object whose API version changed is not stale. Entries of old whose id
// cannot be parsed are left out: an object that cannot be named cannot be deleted.
func Diff(old, new *Inventory) []ObjMetadata {
	if old == nil || len(old.Entries) == 0 {
		return nil
	}
	keep := make(map[string]struct{})
	if new != nil {
		for _, e := range new.Entries {
			keep[e.ID] = struct{}{}
		}
	}
	var stale []ObjMetadata
	for _, e := range old.Entries {
		if _, ok := keep[e.ID]; ok {
			continue
		}
		o, err := Parse(e.ID)
		if err != nil {
			continue
		}
		keep[e.ID] = struct{}{} // report duplicates of old once
		stale = append(stale, o)
	}
	return stale
}

// Contains reports whether inv has an entry for o.
func Contains(inv *Inventory, o ObjMetadata) bool {
	if inv == nil {
		return false
	}
	id := o.ID()
	for _, e := range inv.Entries {
		if e.ID == id {
			return true
		}
	}
	return false
}

// IDs returns the set of ids in inv, for repeated membership tests.
func IDs(inv *Inventory) map[string]struct{} {
	if inv == nil {
		return nil
	}
	m := make(map[string]struct{}, len(inv.Entries))
	for _, e := range inv.Entries {
		m[e.ID] = struct{}{}
	}
	return m
}
