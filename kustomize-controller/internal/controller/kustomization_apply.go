package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/ssa"
)

type unstructuredObj = unstructured.Unstructured

const (
	reconciliationFailedReason = meta.ReconciliationFailedReason
	pruneFailedReason          = "PruneFailed"
	progressingReason          = meta.ProgressingReason
)

// apply server-side applies the manifests in stages as the Kustomization's identity. Objects
// end up holding the API server's responses, which the health step reads.
func (r *KustomizationReconciler) apply(ctx context.Context, s *scope) (reconcile.Result, error) {
	return reconcile.Result{}, r.applyObjects(ctx, s)
}

func (r *KustomizationReconciler) applyObjects(ctx context.Context, s *scope) error {
	obj := s.obj
	target, err := r.clusters.For(ctx, r.Client, clusterRequest(obj))
	if err != nil {
		return err
	}
	s.target = target
	cs, err := target.Applier.ApplyAllStaged(ctx, s.objects, ssa.ApplyOptions{
		Force:             obj.Spec.Force,
		IgnoreRules:       ignoreRules(obj.Spec.Ignore),
		WaitCRDs:          obj.GetTimeout(),
		PreviousInventory: fromStatusInventory(obj.Status.Inventory),
		CleanupManagers:   r.cleanupManagers,
		CustomStageKinds:  r.customStageKinds,
		Concurrency:       r.opts.ConcurrentSSA,
	})
	if cs != nil {
		s.changeSet = cs
	}
	if err != nil {
		return reconcile.FailAfter(reconciliationFailedReason, fmt.Errorf("apply of revision '%s' failed: %w", s.revision, err), retryAfter(obj))
	}
	// The responses now serve only health checks, which never read managed fields: drop them
	// (they are often half of an object) before objects wait in the pending set.
	for _, o := range s.objects {
		unstructured.RemoveNestedField(o.Object, "metadata", "managedFields")
	}
	s.inventory = inventory.New(s.objects)
	if hasChanges(cs) {
		r.events.Event(obj, events.SeverityInfo, progressingReason, cs.Changes().String(), s.eventMetadata())
	}
	return nil
}

// prune deletes objects of the previous inventory that the new revision no longer has. Those
// the API refuses to delete stay in the inventory, so the next reconcile tries again.
func (r *KustomizationReconciler) prune(ctx context.Context, s *scope) (reconcile.Result, error) {
	err := r.pruneStale(ctx, s)
	// What the apply produced is recorded whatever prune did, before health is known.
	s.obj.Status.Inventory = toStatusInventory(s.inventory)
	return reconcile.Result{}, err
}

func (r *KustomizationReconciler) pruneStale(ctx context.Context, s *scope) error {
	obj := s.obj
	if !obj.Spec.Prune || obj.Status.Inventory == nil {
		return nil
	}
	previous := fromStatusInventory(obj.Status.Inventory)
	stale := inventory.Diff(previous, s.inventory)
	if len(stale) == 0 {
		return nil
	}
	cs, remaining, err := s.target.Applier.Prune(ctx, stale, r.deleteOptions(obj))
	for _, m := range remaining {
		s.inventory.Add(m, previous.VersionOf(m.ID()))
	}
	if hasChanges(cs) {
		r.events.Event(obj, events.SeverityInfo, "Pruned", cs.Changes().String(), s.eventMetadata())
	}
	if err != nil {
		return reconcile.FailAfter(pruneFailedReason, fmt.Errorf("prune failed: %w", err), retryAfter(obj))
	}
	return nil
}

func (r *KustomizationReconciler) deleteOptions(obj *kustomizev1.Kustomization) ssa.DeleteOptions {
	return ssa.DeleteOptions{
		PropagationPolicy: metav1.DeletePropagationBackground,
		OwnerLabels:       map[string]string{ownerLabelName: obj.Name, ownerLabelNamespace: obj.Namespace},
		Exclusions: map[string]string{
			"kustomize.toolkit.fluxcd.io/prune":     "disabled",
			"kustomize.toolkit.fluxcd.io/reconcile": "disabled",
			"kustomize.toolkit.fluxcd.io/ssa":       "Ignore",
		},
	}
}

func ignoreRules(rules []kustomizev1.IgnoreRule) []ssa.IgnoreRule {
	out := make([]ssa.IgnoreRule, 0, len(rules))
	for _, r := range rules {
		out = append(out, ssa.IgnoreRule{Paths: r.Paths, Target: r.Target})
	}
	return out
}

// eventMetadata carries the revision on events, where notification-controller finds it.
func (s *scope) eventMetadata() map[string]string {
	m := map[string]string{kustomizev1.GroupVersion.Group + "/revision": s.revision}
	if s.originRevision != "" {
		m[kustomizev1.GroupVersion.Group+"/originRevision"] = s.originRevision
	}
	return m
}

// hasChanges reports whether a change set did anything worth an event.
func hasChanges(cs *ssa.ChangeSet) bool {
	return cs != nil && len(cs.Changes().Entries) > 0
}
