package controller

import (
	"context"
	"errors"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/repository"
)

// reconcileSource downloads index.yaml (bounded by --helm-index-max-size), parses and
// normalises it, and compares its revision with the stored artifact's.
func (r *HelmRepositoryReconciler) reconcileSource(ctx context.Context, s *helmRepoScope) (reconcile.Result, error) {
	obj := s.obj
	c, err := r.remotes.httpClient(ctx, obj)
	if err != nil {
		return reconcile.Result{}, failHelmRepoFetch(obj, err)
	}
	defer c.Close()
	idx, err := c.FetchIndex(ctx)
	if err != nil {
		return reconcile.Result{}, failHelmRepoFetch(obj, indexFetchError(err))
	}
	log := ctrl.LoggerFrom(ctx)
	for _, e := range idx.Skipped {
		log.Info("left an invalid index entry out", "chart", e.Chart, "version", e.Version, "reason", e.Reason)
	}
	s.index = idx
	if a := obj.Status.Artifact; a != nil {
		if a.Revision == idx.Revision {
			s.upToDate = true
			return reconcile.Result{}, nil
		}
		reconcile.MarkTrue(obj, sourcev1.ArtifactOutdatedCondition, sourcev1.NewRevisionReason,
			fmt.Sprintf("new index revision '%s'", idx.Revision))
	}
	return reconcile.Result{}, nil
}

// indexFetchError classifies a failed index download: an index that is too large or not an
// index is IndexationFailed, rejected credentials AuthenticationFailed, anything else (the
// server unreachable, a 404) Failed, as upstream reports them. All are retried: the server
// can change without the object changing.
func indexFetchError(err error) error {
	var le *helm.LimitError
	var ie *repository.IndexError
	var ue *repository.URLError
	switch {
	case errors.As(err, &ue):
		return reconcile.Stall(sourcev1.URLInvalidReason, err)
	case errors.As(err, &le), errors.As(err, &ie):
		return reconcile.Fail(sourcev1.IndexationFailedReason, fmt.Errorf("failed to load Helm repository index: %w", err))
	case repository.IsAuthError(err):
		return reconcile.Fail(sourcev1.AuthenticationFailedReason, fmt.Errorf("failed to fetch Helm repository index: %w", err))
	}
	return reconcile.Fail("Failed", fmt.Errorf("failed to fetch Helm repository index: %w", err))
}

// failHelmRepoFetch marks FetchFailed=True with the error's reason and returns the error.
func failHelmRepoFetch(obj *sourcev1.HelmRepository, err error) error {
	reconcile.MarkTrue(obj, sourcev1.FetchFailedCondition, reasonOf(err), err.Error())
	return err
}
