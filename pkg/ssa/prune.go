package ssa

import (
	"context"
	"errors"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// DeleteOptions changes how Prune treats stale objects.
type DeleteOptions struct {
	// PropagationPolicy of the deletions; empty means Background.
	PropagationPolicy metav1.DeletionPropagation
	// OwnerLabels: only objects carrying all these labels with these values are deleted, so
	// an object taken over by another Kustomization (or by hand) is left alone.
	OwnerLabels map[string]string
	// Exclusions: objects carrying one of these annotations or labels (values compared
	// without regard to case) are never deleted, e.g. {<group>/prune: disabled,
	// <group>/reconcile: disabled, <group>/ssa: Ignore}.
	Exclusions map[string]string
}

// Prune deletes the stale objects. Each is read first (metadata only); an object that is
// gone, or whose kind is no longer served, is done; one without all the owner labels or with
// an exclusion is Skipped. Deletions carry the UID read as a precondition, so an object
// recreated meanwhile by someone else is not deleted. Objects whose read or deletion fails
// (e.g. RBAC forbids it) are returned as not deleted, for the caller to keep them in the
// inventory and retry; the error joins one ObjectError per such object.
func (m *Manager) Prune(ctx context.Context, stale []inventory.ObjMetadata, opts DeleteOptions) (*ChangeSet, []inventory.ObjMetadata, error) {
	policy := opts.PropagationPolicy
	if policy == "" {
		policy = metav1.DeletePropagationBackground
	}
	results := make([]*ChangeSetEntry, len(stale))
	errs := make([]error, len(stale))
	each(concurrency, stale, func(i int, o inventory.ObjMetadata) {
		results[i], errs[i] = m.pruneOne(ctx, o, policy, &opts)
	})
	cs := &ChangeSet{}
	var notDeleted []inventory.ObjMetadata
	for i, o := range stale {
		if errs[i] != nil {
			notDeleted = append(notDeleted, o)
			continue
		}
		if results[i] != nil {
			cs.add(*results[i])
		}
	}
	return cs, notDeleted, errors.Join(errs...)
}

// pruneOne returns nil, nil for an object that is already gone.
func (m *Manager) pruneOne(ctx context.Context, o inventory.ObjMetadata, policy metav1.DeletionPropagation, opts *DeleteOptions) (*ChangeSetEntry, error) {
	gvk, err := m.preferredGVK(o.GroupKind())
	if meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, objectError(o, err)
	}
	obj := partial(gvk, client.ObjectKey{Namespace: o.Namespace, Name: o.Name})
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, objectError(o, err)
	}
	entry := &ChangeSetEntry{ObjMetadata: o, Version: gvk.Version, Action: Skipped}
	labels := obj.GetLabels()
	for k, v := range opts.OwnerLabels {
		if labels[k] != v {
			return entry, nil
		}
	}
	if anyInMetadata(obj.GetAnnotations(), labels, opts.Exclusions) {
		return entry, nil
	}
	entry.Action = Deleted
	if obj.GetDeletionTimestamp() != nil {
		return entry, nil // already being deleted
	}
	uid := obj.GetUID()
	err = m.client.Delete(ctx, obj, client.PropagationPolicy(policy), client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		if apierrors.IsConflict(err) {
			// The UID precondition failed: the object was recreated since we read it.
			entry.Action = Skipped
			return entry, nil
		}
		return nil, objectError(o, err)
	}
	m.memory.forget(uid)
	return entry, nil
}

// Remaining returns the objects of objs that still exist (in the order of objs), for
// deletionPolicy WaitForTermination: the caller requeues while some remain instead of
// blocking a worker. Kinds that are no longer served count as gone.
func (m *Manager) Remaining(ctx context.Context, objs []inventory.ObjMetadata) ([]inventory.ObjMetadata, error) {
	exists := make([]bool, len(objs))
	errs := make([]error, len(objs))
	each(concurrency, objs, func(i int, o inventory.ObjMetadata) {
		gvk, err := m.preferredGVK(o.GroupKind())
		if meta.IsNoMatchError(err) {
			return
		}
		if err != nil {
			exists[i], errs[i] = true, objectError(o, err)
			return
		}
		obj := partial(gvk, client.ObjectKey{Namespace: o.Namespace, Name: o.Name})
		err = m.client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		switch {
		case err == nil:
			exists[i] = true
		case !apierrors.IsNotFound(err):
			exists[i], errs[i] = true, objectError(o, err)
		}
	})
	var out []inventory.ObjMetadata
	for i, o := range objs {
		if exists[i] {
			out = append(out, o)
		}
	}
	return out, errors.Join(errs...)
}

// preferredGVK maps a group and kind to the version the API server prefers, from the
// client's (cached) RESTMapper.
func (m *Manager) preferredGVK(gk schema.GroupKind) (schema.GroupVersionKind, error) {
	mapping, err := m.client.RESTMapper().RESTMapping(gk)
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return mapping.GroupVersionKind, nil
}

// each calls f for every item, a few at a time, and returns when all are done.
func each[T any](n int, items []T, f func(int, T)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, item := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i, item)
		})
	}
	wg.Wait()
}
