package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// reasonNoSourceArtifact is upstream's reason while the source has no artifact yet.
const reasonNoSourceArtifact = "NoSourceArtifact"

// reconcileSource reads spec.sourceRef (always in the HelmChart's namespace). A HelmRepository
// of type oci needs no artifact; the other sources must have a stored one, else the chart
// waits for it (their new artifact wakes it through the watch).
func (r *HelmChartReconciler) reconcileSource(ctx context.Context, s *helmChartScope) (reconcile.Result, error) {
	obj := s.obj
	ref := obj.Spec.SourceRef
	var src interface {
		client.Object
		GetArtifact() *meta.Artifact
	}
	switch ref.Kind {
	case sourcev1.HelmRepositoryKind:
		s.repo = &sourcev1.HelmRepository{}
		src = s.repo
	case sourcev1.GitRepositoryKind:
		src = &sourcev1.GitRepository{}
	case sourcev1.BucketKind:
		src = &sourcev1.Bucket{}
	default:
		return reconcile.Result{}, failChartFetch(obj, reconcile.Stall("UnsupportedSourceKind",
			fmt.Errorf("spec.sourceRef.kind '%s' is not supported: want HelmRepository, GitRepository or Bucket", ref.Kind)))
	}
	if err := r.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			err = fmt.Errorf("%s '%s/%s' not found", ref.Kind, obj.Namespace, ref.Name)
		}
		return reconcile.Result{}, failChartFetch(obj, reconcile.Fail("SourceUnavailable", fmt.Errorf("failed to get source: %w", err)))
	}
	if s.repo != nil && s.repo.IsOCI() {
		return reconcile.Result{}, nil
	}
	a := src.GetArtifact()
	if a == nil || !r.Storage.Exists(a) {
		return reconcile.Result{}, reconcile.Wait(reasonNoSourceArtifact,
			fmt.Errorf("no artifact available for %s source '%s'", ref.Kind, ref.Name), 0)
	}
	s.sourceArtifact = a
	return reconcile.Result{}, nil
}

// failChartFetch marks FetchFailed=True with the error's reason and returns the error.
func failChartFetch(obj *sourcev1.HelmChart, err error) error {
	reconcile.DeleteCondition(obj, sourcev1.BuildFailedCondition)
	reconcile.MarkTrue(obj, sourcev1.FetchFailedCondition, reasonOf(err), err.Error())
	return err
}
