package controller

import (
	"context"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/reconcile"
)

// terminationRecheck is how often a WaitForTermination deletion looks at what is left.
const terminationRecheck = 5 * time.Second

// finalize garbage-collects the inventory according to spec.deletionPolicy before the
// Kustomization goes: MirrorPrune deletes when spec.prune is set, Delete always, Orphan never,
// WaitForTermination deletes and waits until everything is gone. A suspended Kustomization
// leaves its objects alone.
func (r *KustomizationReconciler) finalize(ctx context.Context, obj *kustomizev1.Kustomization) error {
	log := ctrl.LoggerFrom(ctx)
	r.health.Done(obj)
	if obj.Spec.Suspend || obj.Status.Inventory == nil || len(obj.Status.Inventory.Entries) == 0 {
		return nil
	}
	policy := obj.GetDeletionPolicy()
	switch {
	case policy == kustomizev1.DeletionPolicyOrphan:
		return nil
	case policy == kustomizev1.DeletionPolicyMirrorPrune && !obj.Spec.Prune:
		return nil
	}
	target, err := r.clusters.For(ctx, r.Client, clusterRequest(obj))
	if err != nil {
		// Without a way to reach the objects, deleting them is impossible; keeping the
		// finalizer would block the namespace forever.
		r.events.Event(obj, events.SeverityError, "PruneFailed", fmt.Sprintf("garbage collection skipped: %v", err), nil)
		log.Error(err, "garbage collection skipped")
		return nil
	}
	// Everything in the inventory is stale once the Kustomization goes.
	objs := inventory.Diff(fromStatusInventory(obj.Status.Inventory), nil)
	cs, _, err := target.Applier.Prune(ctx, objs, r.deleteOptions(obj))
	if hasChanges(cs) {
		r.events.Event(obj, events.SeverityInfo, "Pruned", cs.Changes().String(), nil)
	}
	if err != nil {
		return reconcile.FailAfter(pruneFailedReason, fmt.Errorf("garbage collection failed: %w", err), obj.GetRetryInterval())
	}
	if policy == kustomizev1.DeletionPolicyWaitForTermination {
		left, err := target.Applier.Remaining(ctx, objs)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			waited := time.Since(obj.DeletionTimestamp.Time)
			if waited < obj.GetTimeout() {
				return reconcile.Wait("TerminationInProgress", fmt.Errorf("waiting for %d objects to terminate, e.g. %s", len(left), left[0]), terminationRecheck)
			}
			// Waiting longer would hold the Kustomization, and its namespace, forever
			// (an object whose own finalizer never completes): give up at spec.timeout.
			msg := fmt.Sprintf("gave up waiting for %d objects to terminate after %s (spec.timeout), e.g. %s", len(left), waited.Round(time.Second), left[0])
			log.Info(msg)
			r.events.Event(obj, events.SeverityError, "TerminationTimeout", msg, nil)
		}
	}
	return nil
}
