package ssa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// Stages of ApplyAllStaged. Objects that others depend on at admission go first: the
// definitions of custom kinds, the namespaces objects live in, and the cluster roles that
// bindings refer to (an impersonated service account may only bind a role that exists and
// whose rights it holds). Cluster-wide "class" objects (StorageClass, IngressClass,
// PriorityClass, RuntimeClass, GatewayClass...) go next, after the custom kinds are served,
// since objects name them and some may be custom kinds themselves.
//
// Kinds named in ApplyOptions.CustomStageKinds (--custom-apply-stage-kinds) get a stage of
// their own, after the classes and before everything else.
const (
	stageDefinitions = iota
	stageClasses
	stageCustom
	stageRest
	stageCount
)

func stageOf(u *unstructured.Unstructured, custom map[schema.GroupKind]bool) int {
	gvk := u.GroupVersionKind()
	switch {
	case custom[gvk.GroupKind()]:
		return stageCustom
	case gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition",
		gvk.Group == "" && gvk.Kind == "Namespace",
		gvk.Group == "rbac.authorization.k8s.io" && gvk.Kind == "ClusterRole":
		return stageDefinitions
	case strings.HasSuffix(gvk.Kind, "Class"):
		return stageClasses
	}
	return stageRest
}

func isCRD(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition"
}

// applyRun holds what the objects of one ApplyAllStaged call share.
type applyRun struct {
	m        *Manager
	opts     *ApplyOptions
	rules    ignoreRules
	previous map[string]struct{}
	cleanup  []string
	// custom are the kinds of the custom stage.
	custom map[schema.GroupKind]bool
}

// ApplyAllStaged server-side applies objs in stages (see stageOf): custom resource
// definitions, namespaces and cluster roles first, then waits until the new definitions
// are Established and served (bounded by opts.WaitCRDs); then class objects; then the rest.
//
// Each object costs one apply request: no GET, no dry-run (see classify for how the action
// is told). Objects are mutated in place to the API server's response, so the caller can
// evaluate health from them. Within a stage up to opts.Concurrency objects are applied at
// once; when some
// fail, the stage still completes, the later stages are not applied, and the error joins
// one ObjectError per failed object. The change set lists the objects applied so far, in
// the order of objs.
func (m *Manager) ApplyAllStaged(ctx context.Context, objs []*unstructured.Unstructured, opts ApplyOptions) (*ChangeSet, error) {
	rules, err := compileIgnoreRules(opts.IgnoreRules)
	if err != nil {
		return nil, err
	}
	run := &applyRun{m: m, opts: &opts, rules: rules, previous: inventory.IDs(opts.PreviousInventory), cleanup: opts.cleanupManagers(),
		custom: map[schema.GroupKind]bool{}}
	for _, gk := range opts.CustomStageKinds {
		run.custom[gk] = true
	}

	var stages [stageCount][]int
	for i, u := range objs {
		s := stageOf(u, run.custom)
		stages[s] = append(stages[s], i)
	}
	results := make([]*ChangeSetEntry, len(objs))
	changeSet := func() *ChangeSet {
		cs := &ChangeSet{Entries: make([]ChangeSetEntry, 0, len(objs))}
		for _, e := range results {
			if e != nil {
				cs.add(*e)
			}
		}
		return cs
	}
	for s, idx := range stages {
		if err := run.applyStage(ctx, objs, idx, results); err != nil {
			return changeSet(), err
		}
		if s == stageDefinitions {
			if err := m.waitForCRDs(ctx, objs, idx, results, opts.waitCRDs()); err != nil {
				return changeSet(), err
			}
		}
	}
	return changeSet(), nil
}

// applyStage applies objs[i] for i in idx, a few at a time, storing each outcome in
// results[i]; the errors are joined in input order.
func (r *applyRun) applyStage(ctx context.Context, objs []*unstructured.Unstructured, idx []int, results []*ChangeSetEntry) error {
	errs := make([]error, len(idx))
	each(r.opts.concurrency(), idx, func(n, i int) {
		entry, err := r.applyOne(ctx, objs[i])
		if err != nil {
			errs[n] = err
			return
		}
		results[i] = &entry
	})
	return errors.Join(errs...)
}

// applyOne applies one object according to its policy; see the package documentation.
func (r *applyRun) applyOne(ctx context.Context, u *unstructured.Unstructured) (ChangeSetEntry, error) {
	m := r.m
	entry := ChangeSetEntry{ObjMetadata: inventory.FromObject(u), Version: u.GroupVersionKind().Version}
	pol := m.policyOf(u)
	if pol == policyIgnore {
		entry.Action = Skipped
		return entry, nil
	}
	namespaced, err := m.client.IsObjectNamespaced(u)
	if err != nil {
		return entry, objectError(entry.ObjMetadata, err)
	}
	switch {
	case namespaced && u.GetNamespace() == "":
		return entry, objectError(entry.ObjMetadata, errors.New("namespace not set for a namespaced kind (set metadata.namespace or targetNamespace)"))
	case !namespaced && u.GetNamespace() != "":
		// The API server drops it too; the inventory must name the object as it is stored.
		u.SetNamespace("")
		entry.ObjMetadata.Namespace = ""
	}
	id := entry.ObjMetadata

	if pol == policyIfNotPresent {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(u.GroupVersionKind())
		err := m.client.Get(ctx, client.ObjectKeyFromObject(u), live)
		switch {
		case err == nil:
			u.Object = live.Object
			entry.Action = Skipped
			return entry, nil
		case !apierrors.IsNotFound(err):
			return entry, objectError(id, err)
		}
	}

	// Ignored paths are sent only when the object is (most likely) being created: they then
	// start from the manifest's values, and our entry releases them right after (see
	// fixManagedFields). Afterwards they are left to whoever edits them in the cluster.
	inPrevious := false
	if r.previous != nil {
		_, inPrevious = r.previous[id.ID()]
	}
	ignored := r.rules.pathsFor(u)
	body := u
	if len(ignored) > 0 && pol != policyIfNotPresent && (r.opts.PreviousInventory == nil || inPrevious) {
		body = u.DeepCopy()
		stripPaths(body.Object, ignored)
	}
	data, err := json.Marshal(body.Object)
	if err != nil {
		return entry, objectError(id, err)
	}
	// full is the whole manifest when data leaves ignored paths out: u holds the response
	// once applied.
	var full []byte
	if body != u {
		if full, err = json.Marshal(u.Object); err != nil {
			return entry, objectError(id, err)
		}
	}

	start := time.Now()
	recreated := false
	if err := m.patchApply(ctx, u, data); err != nil {
		if !isImmutableError(err) {
			return entry, objectError(id, err)
		}
		if !m.forced(u, r.opts) {
			return entry, objectError(id, fmt.Errorf("%w (immutable field changed: enable force (spec.force) or annotate the object with %s: %s to recreate it)",
				err, m.owner.key("force"), "enabled"))
		}
		if full != nil {
			// A recreated object starts from the full manifest, as any created object.
			data = full
		}
		if err := m.recreate(ctx, u, data); err != nil {
			return entry, objectError(id, err)
		}
		recreated = true
	} else if full != nil && m.createdSince(u, start) {
		// The ignored paths were left out on the belief that the object existed (the
		// inventory was unknown or stale), but this apply created it: a created object
		// starts from the full manifest, so apply that once more.
		if err := m.patchApply(ctx, u, full); err != nil {
			return entry, objectError(id, err)
		}
		recreated = true
	}

	entry.Action = Created
	if !recreated {
		entry.Action = m.classify(u, start, inPrevious)
	}
	tookOver, err := m.fixManagedFields(ctx, u, pol == policyOverride, r.cleanup, ignored)
	if err != nil {
		return entry, objectError(id, err)
	}
	if tookOver {
		// Apply again now that we own what kubectl added: the API server removes the fields
		// that are not in our manifest, reverting the in-cluster edits in this reconcile.
		rv := u.GetResourceVersion()
		if err := m.patchApply(ctx, u, data); err != nil {
			return entry, objectError(id, err)
		}
		if entry.Action == Unchanged && u.GetResourceVersion() != rv {
			entry.Action = Configured
		}
	}
	m.remember(u)
	return entry, nil
}

// patchApply sends one server-side apply of data for u, forcing ownership of conflicting
// fields, and decodes the response into u.
func (m *Manager) patchApply(ctx context.Context, u *unstructured.Unstructured, data []byte, opts ...client.PatchOption) error {
	opts = append(opts, client.FieldOwner(m.owner.Field), client.ForceOwnership)
	return m.client.Patch(ctx, u, client.RawPatch(types.ApplyPatchType, data), opts...)
}
