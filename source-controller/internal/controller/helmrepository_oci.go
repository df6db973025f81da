package controller

import (
	"context"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// An OCI HelmRepository (spec.type oci) is a data container, as upstream documents it: it
// produces no artifact, the HelmCharts that reference it read its URL, credentials, provider
// and insecure flag, and its status stays empty (no conditions, no artifact, no url; kubectl
// and flux show nothing under READY/STATUS). So the controller never reconciles one; it only
// releases a repository that had another type before: it drops the old status, the stored
// index and the finalizer, after which the object is left alone.

// ociRelease lets through events of non-OCI repositories and of OCI repositories that still
// need releasing.
func ociRelease() predicate.Predicate {
	keep := func(obj client.Object) bool {
		repo, ok := obj.(*sourcev1.HelmRepository)
		return !ok || !repo.IsOCI() || needsRelease(repo)
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return keep(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return keep(e.ObjectNew) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return keep(e.Object) },
		GenericFunc: func(e event.GenericEvent) bool { return keep(e.Object) },
	}
}

// needsRelease reports whether an OCI repository still carries what a default-type
// repository had: the finalizer or any status.
func needsRelease(repo *sourcev1.HelmRepository) bool {
	return controllerutil.ContainsFinalizer(repo, reconcile.DefaultFinalizer) ||
		!reflect.DeepEqual(repo.Status, sourcev1.HelmRepositoryStatus{})
}

// releaseOCI handles an OCI HelmRepository (handled is true): when it still has a status or
// the finalizer, they and the stored index go. Other types are left to the engine.
func (r *HelmRepositoryReconciler) releaseOCI(ctx context.Context, req ctrl.Request) (handled bool, err error) {
	var repo sourcev1.HelmRepository
	if err := r.Get(ctx, req.NamespacedName, &repo); err != nil {
		// Not found or unreadable: the engine reports it the usual way.
		return false, client.IgnoreNotFound(err)
	}
	if !repo.IsOCI() {
		return false, nil
	}
	if !needsRelease(&repo) {
		return true, nil
	}
	if err := r.finalize(ctx, &repo); err != nil {
		return true, fmt.Errorf("release OCI HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err)
	}
	if !reflect.DeepEqual(repo.Status, sourcev1.HelmRepositoryStatus{}) {
		base := repo.DeepCopy()
		repo.Status = sourcev1.HelmRepositoryStatus{}
		if err := r.Status().Patch(ctx, &repo, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
			return true, fmt.Errorf("clear status of OCI HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err)
		}
	}
	if controllerutil.ContainsFinalizer(&repo, reconcile.DefaultFinalizer) {
		base := repo.DeepCopy()
		controllerutil.RemoveFinalizer(&repo, reconcile.DefaultFinalizer)
		if err := r.Patch(ctx, &repo, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil && !apierrors.IsNotFound(err) {
			return true, fmt.Errorf("remove finalizer of OCI HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err)
		}
	}
	ctrl.LoggerFrom(ctx).Info("released OCI HelmRepository: it is a data container without status")
	return true, nil
}
