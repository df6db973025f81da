package ssa

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// managedFieldsAttempts bounds the retries of the managed-fields patch when the object
// changes between our read and our patch (a controller updating the status, say).
const managedFieldsAttempts = 3

// fixManagedFields rewrites the managed fields of the applied object u (the API server's
// response, updated in place) when needed, with one JSON patch guarded by resourceVersion:
//
//   - takeOver: the fields owned by cleanup managers (kubectl edit/patch/..., our own
//     manager through an Update) move to our Apply entry, except ignored paths, which stay
//     with their manager. The next apply then removes what kubectl added and we do not apply.
//   - our Apply entry releases the ignored paths it owns (it owns them after creating the
//     object with its full manifest), so that applies without those paths do not delete them.
//
// It returns whether fields were taken over. Nothing is sent when nothing needs to change,
// which is the case for every object kubectl never touched.
func (m *Manager) fixManagedFields(ctx context.Context, u *unstructured.Unstructured, takeOver bool, cleanup []string, ignored [][]string) (bool, error) {
	for attempt := 1; ; attempt++ {
		patch, tookOver, err := m.managedFieldsPatch(u, takeOver, cleanup, ignored)
		if err != nil || patch == nil {
			return false, err
		}
		err = m.client.Patch(ctx, u, client.RawPatch(types.JSONPatchType, patch))
		if err == nil {
			return tookOver, nil
		}
		if !(apierrors.IsInvalid(err) || apierrors.IsConflict(err)) || attempt == managedFieldsAttempts {
			return false, fmt.Errorf("take over managed fields: %w", err)
		}
		// The object changed since the response we computed from: read it and try again.
		if err := m.client.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
			return false, fmt.Errorf("take over managed fields: %w", err)
		}
	}
}

// managedFieldsPatch computes the JSON patch of fixManagedFields, nil when none is needed.
func (m *Manager) managedFieldsPatch(u *unstructured.Unstructured, takeOver bool, cleanup []string, ignored [][]string) ([]byte, bool, error) {
	// Cheap scan of the raw entries first: most objects only have our entry.
	raw := managedFieldsOf(u)
	hasOurs, candidates := false, false
	for _, e := range raw {
		sub, _ := e["subresource"].(string)
		switch {
		case m.isOurApplyEntry(e):
			hasOurs = true
		case takeOver && sub == "" && m.isCleanupManager(e, cleanup):
			candidates = true
		}
	}
	if !candidates && (len(ignored) == 0 || !hasOurs) {
		return nil, false, nil
	}

	var matchers []fieldMatcher
	for _, segs := range ignored {
		if fm, ok := resolvePointer(u.Object, segs); ok {
			matchers = append(matchers, fm)
		}
	}
	entries := u.GetManagedFields()
	ours := -1
	for i := range entries {
		e := &entries[i]
		if e.Manager == m.owner.Field && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			ours = i
			break
		}
	}
	oursSet := &fieldpath.Set{}
	apiVersion := u.GetAPIVersion()
	if ours >= 0 {
		s, err := fieldSet(entries[ours].FieldsV1)
		if err != nil {
			return nil, false, fmt.Errorf("managed fields of %s: %w", m.owner.Field, err)
		}
		oursSet, apiVersion = s, entries[ours].APIVersion
	}

	changed, tookOver := false, false
	if ign := ignoredSubset(oursSet, matchers); !ign.Empty() {
		oursSet = oursSet.Difference(ign)
		changed = true
	}
	kept := entries[:0:0]
	for i, e := range entries {
		if i == ours || !takeOver || e.Subresource != "" || e.APIVersion != apiVersion || !m.isCleanupManager(entryMap(e), cleanup) {
			kept = append(kept, e)
			continue
		}
		s, err := fieldSet(e.FieldsV1)
		if err != nil {
			return nil, false, fmt.Errorf("managed fields of %s: %w", e.Manager, err)
		}
		ign := ignoredSubset(s, matchers)
		take := s.Difference(ign)
		if take.Empty() {
			kept = append(kept, e)
			continue
		}
		oursSet = oursSet.Union(take)
		changed, tookOver = true, true
		if !ign.Empty() {
			if e.FieldsV1, err = fieldsV1(ign); err != nil {
				return nil, false, err
			}
			kept = append(kept, e)
		}
	}
	if !changed {
		return nil, false, nil
	}

	fv, err := fieldsV1(oursSet)
	if err != nil {
		return nil, false, err
	}
	if ours >= 0 {
		for i := range kept {
			if kept[i].Manager == m.owner.Field && kept[i].Operation == metav1.ManagedFieldsOperationApply && kept[i].Subresource == "" {
				kept[i].FieldsV1 = fv
			}
		}
	} else {
		now := metav1.NewTime(time.Now())
		kept = append(kept, metav1.ManagedFieldsEntry{Manager: m.owner.Field, Operation: metav1.ManagedFieldsOperationApply,
			APIVersion: apiVersion, Time: &now, FieldsType: "FieldsV1", FieldsV1: fv})
	}
	if len(kept) == 0 {
		// An empty list means "leave managed fields alone" to the API server.
		return nil, false, nil
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": u.GetResourceVersion()},
		{"op": "replace", "path": "/metadata/managedFields", "value": kept},
	})
	return patch, tookOver, err
}

// entryMap gives the fields isCleanupManager reads of a typed entry.
func entryMap(e metav1.ManagedFieldsEntry) map[string]any {
	return map[string]any{"manager": e.Manager, "operation": string(e.Operation)}
}

func fieldSet(f *metav1.FieldsV1) (*fieldpath.Set, error) {
	s := &fieldpath.Set{}
	if f == nil || len(f.Raw) == 0 {
		return s, nil
	}
	if err := s.FromJSON(bytes.NewReader(f.Raw)); err != nil {
		return nil, err
	}
	return s, nil
}

func fieldsV1(s *fieldpath.Set) (*metav1.FieldsV1, error) {
	b, err := s.ToJSON()
	if err != nil {
		return nil, err
	}
	return &metav1.FieldsV1{Raw: b}, nil
}
