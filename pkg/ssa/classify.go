package ssa

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// classify tells what an apply did from the API server's response alone, without a GET or
// dry-run before the apply. start is the time just before the apply request was sent.
//
// The heuristic, in order:
//
//  1. Created: the Manager has no memory of the object's UID, the object is not in the
//     previous inventory, its creationTimestamp is after start-1s and its managed fields hold
//     no entry but ours (an object created by someone else shows its creator's entry, unless
//     our apply took every field of it). Timestamps have a resolution of one second, so
//     anything created in the same wall-clock second as start counts; this relies on the
//     controller and the API server sharing a clock (within well under a second), which holds
//     in-cluster.
//  2. Unchanged: the Manager remembers the resourceVersion of its last apply of this UID and
//     the response has the same one: the apply was a no-op on the server.
//  3. Configured: the time of our "Apply" managed-fields entry is after start-1s. The API
//     server moves the time of a manager's entry only when that manager's apply changes the
//     object (a no-op apply does not touch the object at all), so this apply changed it -
//     or, with one-second timestamps, an earlier apply of ours within the same wall-clock
//     second did; ambiguity is reported as Configured rather than hide a change.
//  4. Unchanged otherwise: the object changed since our last apply only through others (a
//     controller updating the status, say), or the Manager is new and nothing changed.
func (m *Manager) classify(u *unstructured.Unstructured, start time.Time, inPrevious bool) Action {
	threshold := start.Add(-time.Second)
	rv, known := m.memory.get(u.GetUID())
	if !known && !inPrevious && u.GetCreationTimestamp().After(threshold) && m.onlyOurEntry(u) {
		return Created
	}
	if known && rv == u.GetResourceVersion() {
		return Unchanged
	}
	if ours, ok := m.ourApplyTime(u); ok && ours.After(threshold) {
		return Configured
	}
	return Unchanged
}

// createdSince reports whether the apply response u shows an object created by an apply of
// ours sent at start or later (see the Created rule of classify), whatever the inventory and
// memory say.
func (m *Manager) createdSince(u *unstructured.Unstructured, start time.Time) bool {
	return u.GetCreationTimestamp().After(start.Add(-time.Second)) && m.onlyOurEntry(u)
}

// onlyOurEntry reports whether every managed-fields entry of u is our manager's.
func (m *Manager) onlyOurEntry(u *unstructured.Unstructured) bool {
	for _, e := range managedFieldsOf(u) {
		if name, _ := e["manager"].(string); name != m.owner.Field {
			return false
		}
	}
	return true
}

// remember records the response of an apply (or of a patch of its managed fields).
func (m *Manager) remember(u *unstructured.Unstructured) {
	m.memory.put(u.GetUID(), u.GetResourceVersion())
}

// ourApplyTime returns the time of our manager's Apply entry for the main resource in u's
// managed fields, read from the raw map without converting every entry.
func (m *Manager) ourApplyTime(u *unstructured.Unstructured) (time.Time, bool) {
	for _, e := range managedFieldsOf(u) {
		if m.isOurApplyEntry(e) {
			t, _ := e["time"].(string)
			parsed, err := time.Parse(time.RFC3339, t)
			return parsed, err == nil
		}
	}
	return time.Time{}, false
}

func (m *Manager) isOurApplyEntry(e map[string]any) bool {
	name, _ := e["manager"].(string)
	op, _ := e["operation"].(string)
	sub, _ := e["subresource"].(string)
	return name == m.owner.Field && op == string(metav1.ManagedFieldsOperationApply) && sub == ""
}

// managedFieldsOf returns the raw metadata.managedFields entries of u.
func managedFieldsOf(u *unstructured.Unstructured) []map[string]any {
	md, _ := u.Object["metadata"].(map[string]any)
	list, _ := md["managedFields"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if em, ok := e.(map[string]any); ok {
			out = append(out, em)
		}
	}
	return out
}
