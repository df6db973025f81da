package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"gotk.dev/pkg/reconcile"
)

// isLeader reports whether this replica holds the leader lease (always, without leader
// election). Controllers that run on every replica write and record events only there.
func isLeader(mgr ctrl.Manager) bool {
	select {
	case <-mgr.Elected():
		return true
	default:
		return false
	}
}

// dropStaleFinalizers removes the finalizer older notification-controllers put on Alerts and
// Providers: v1beta3 objects are static, nothing cleans up after them, and a finalizer left
// behind would block their deletion forever. Only the leader writes.
func dropStaleFinalizers(ctx context.Context, c client.Client, mgr ctrl.Manager, objs []client.Object) error {
	if !isLeader(mgr) {
		return nil
	}
	var errs []error
	for _, obj := range objs {
		if !controllerutil.ContainsFinalizer(obj, reconcile.DefaultFinalizer) {
			continue
		}
		base := obj.DeepCopyObject().(client.Object)
		controllerutil.RemoveFinalizer(obj, reconcile.DefaultFinalizer)
		if err := c.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("remove finalizer of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

// joinMessages joins problem messages into one sentence list.
func joinMessages(msgs []string) string { return strings.Join(msgs, "; ") }
