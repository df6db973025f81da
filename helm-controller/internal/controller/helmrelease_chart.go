package controller

import (
	"context"
	"fmt"

	"gotk.dev/helmrender"
	"gotk.dev/helmrender/values"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	valuesErrorReason      = "ValuesError"
	chartMutateErrorReason = "ChartMutateError"
)

// composeValues merges spec.valuesFrom and spec.values in upstream's order. ConfigMaps and
// Secrets are read from the API (never cached); a missing optional one is skipped.
func (r *HelmReleaseReconciler) composeValues(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	vals, err := values.Compose(ctx, values.ClientGetter(r.Client, obj.Namespace), obj.Namespace, obj.Spec.ValuesFrom, obj.GetValues())
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(valuesErrorReason, err)
	}
	s.values = vals
	return reconcile.Result{}, nil
}

// loadChart fetches the chart artifact (digest verified, downloaded once per digest for
// every HelmRelease using it) and loads the chart. A chart from an OCIRepository gets the
// artifact's digest as build metadata of its version ("6.5.3+0cc9a8446c95"), so a new push of
// the same version is a new release, as upstream does unless DisableChartDigestTracking.
func (r *HelmReleaseReconciler) loadChart(ctx context.Context, s *scope) (reconcile.Result, error) {
	a := s.artifact
	dir, release, err := r.artifacts.Get(ctx, a.URL, a.Digest)
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(artifactFailedReason, fmt.Errorf("Could not load chart: %w", err))
	}
	s.dir, s.release = dir, release
	// A fresh chart object per reconcile: Helm mutates the chart it releases (disabled
	// dependencies are dropped according to the values).
	chrt, err := helmrender.LoadChart(dir)
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(artifactFailedReason, fmt.Errorf("Could not load chart from artifact revision '%s': %w", a.Revision, err))
	}
	s.chart = chrt
	if _, isOCI := s.source.(*sourcev1.OCIRepository); isOCI && !r.opts.enabled(DisableChartDigestTracking) {
		v, err := helmrender.WithDigest(chrt.Metadata.Version, a.Revision)
		if err != nil {
			return reconcile.Result{}, reconcile.Fail(chartMutateErrorReason, err)
		}
		s.ociDigest, chrt.Metadata.Version = v.Digest, v.Version
	}
	return reconcile.Result{}, nil
}
