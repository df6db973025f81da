package controller

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

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

// onElection is a watch source that calls enqueue once this replica becomes the leader (at
// once without leader election): controllers that run on every replica but write or record
// events only on the leader go over their objects again then, since what they saw before
// they led was only logged.
func onElection(mgr ctrl.Manager, enqueue func(ctx context.Context, q workqueue.TypedRateLimitingInterface[crreconcile.Request])) source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[crreconcile.Request]) error {
		go func() {
			select {
			case <-mgr.Elected():
				enqueue(ctx, q)
			case <-ctx.Done():
			}
		}()
		return nil
	})
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
