package ssa

import (
	"context"
	"encoding/json"
	"errors"

	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// DiffEntry is what applying one object would do.
type DiffEntry struct {
	ChangeSetEntry
	// Live is the object in the cluster, nil when it does not exist.
	Live *unstructured.Unstructured
	// Merged is the object as it would be after the apply (the server-side dry-run result),
	// nil for skipped objects.
	Merged *unstructured.Unstructured
}

// Diff tells, for each object, whether applying it would create, configure or leave it
// unchanged, with the live and merged objects, using a GET and a server-side dry-run apply
// per object (this is the `flux diff` path, not the reconcile path). objs are not modified.
// Objects of kinds the cluster does not serve yet (their CRD is among objs, say) are reported
// as Created with the manifest as merged object. Per-object errors are joined; the other
// objects are still diffed. The takeover of kubectl-managed fields is not simulated.
func (m *Manager) Diff(ctx context.Context, objs []*unstructured.Unstructured, opts ApplyOptions) ([]DiffEntry, error) {
	rules, err := compileIgnoreRules(opts.IgnoreRules)
	if err != nil {
		return nil, err
	}
	out := make([]DiffEntry, len(objs))
	errs := make([]error, len(objs))
	each(concurrency, objs, func(i int, u *unstructured.Unstructured) {
		out[i], errs[i] = m.diffOne(ctx, u, rules)
	})
	return out, errors.Join(errs...)
}

func (m *Manager) diffOne(ctx context.Context, manifest *unstructured.Unstructured, rules ignoreRules) (DiffEntry, error) {
	u := manifest.DeepCopy()
	entry := DiffEntry{ChangeSetEntry: ChangeSetEntry{ObjMetadata: inventory.FromObject(u), Version: u.GroupVersionKind().Version}}
	pol := m.policyOf(u)
	if pol == policyIgnore {
		entry.Action = Skipped
		return entry, nil
	}
	namespaced, err := m.client.IsObjectNamespaced(u)
	if meta.IsNoMatchError(err) {
		entry.Action, entry.Merged = Created, u
		return entry, nil
	}
	if err != nil {
		return entry, objectError(entry.ObjMetadata, err)
	}
	if !namespaced {
		u.SetNamespace("")
		entry.Namespace = ""
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(u.GroupVersionKind())
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(u), live); err != nil {
		if !kerrors.IsNotFound(err) {
			return entry, objectError(entry.ObjMetadata, err)
		}
		live = nil
	}
	entry.Live = live
	if live != nil && pol == policyIfNotPresent {
		entry.Action = Skipped
		return entry, nil
	}
	if live != nil {
		stripPaths(u.Object, rules.pathsFor(u))
	}
	data, err := json.Marshal(u.Object)
	if err != nil {
		return entry, objectError(entry.ObjMetadata, err)
	}
	if err := m.patchApply(ctx, u, data, client.DryRunAll); err != nil {
		return entry, objectError(entry.ObjMetadata, err)
	}
	entry.Merged = u
	switch {
	case live == nil:
		entry.Action = Created
	case equality.Semantic.DeepEqual(withoutWriteFields(live), withoutWriteFields(u)):
		entry.Action = Unchanged
	default:
		entry.Action = Configured
	}
	return entry, nil
}

// withoutWriteFields returns the object without the fields every write changes.
func withoutWriteFields(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(c.Object, "metadata", "generation")
	return c.Object
}
