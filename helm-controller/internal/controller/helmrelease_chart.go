package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart/loader"

	"gotk.dev/helm-controller/internal/values"
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
	root, err := chartRoot(dir)
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(artifactFailedReason, fmt.Errorf("Could not load chart from artifact revision '%s': %w", a.Revision, err))
	}
	// A fresh chart object per reconcile: Helm mutates the chart it releases (disabled
	// dependencies are dropped according to the values).
	chrt, err := loader.LoadDir(root)
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(artifactFailedReason, fmt.Errorf("Could not load chart from artifact revision '%s': %w", a.Revision, err))
	}
	s.chart = chrt
	if _, isOCI := s.source.(*sourcev1.OCIRepository); isOCI && !r.opts.enabled(DisableChartDigestTracking) {
		digest, err := withDigestVersion(chrt.Metadata.Version, a.Revision)
		if err != nil {
			return reconcile.Result{}, reconcile.Fail(chartMutateErrorReason, err)
		}
		s.ociDigest = digest.digest
		chrt.Metadata.Version = digest.version
	}
	return reconcile.Result{}, nil
}

// chartRoot finds the chart in an extracted artifact: the directory itself, or the one
// directory in it holding a Chart.yaml (a packaged chart extracts to "<name>/").
func chartRoot(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err == nil {
		return dir, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), "Chart.yaml")); err == nil {
				found = append(found, e.Name())
			}
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("want one chart (a Chart.yaml at the top or in one directory), found %d", len(found))
	}
	return filepath.Join(dir, found[0]), nil
}

type digestVersion struct{ version, digest string }

// withDigestVersion appends the first 12 hex digits of the OCI artifact digest to the chart
// version as semver build metadata. revision is "<tag>@<algo>:<hex>" or "<algo>:<hex>"; a
// tag that is not the chart's version is an error, as upstream reports it.
func withDigestVersion(version, revision string) (digestVersion, error) {
	v, err := semver.NewVersion(version)
	if err != nil {
		return digestVersion{}, fmt.Errorf("chart version '%s' is not semver: %w", version, err)
	}
	digest := revision
	if tag, d, ok := strings.Cut(revision, "@"); ok {
		if tag != version {
			return digestVersion{}, fmt.Errorf("artifact revision %s does not match chart version %s", tag, version)
		}
		digest = d
	}
	_, hex, ok := strings.Cut(digest, ":")
	if !ok || len(hex) < 12 {
		return digestVersion{}, fmt.Errorf("invalid artifact revision %s", revision)
	}
	withMeta, err := v.SetMetadata(hex[:12])
	if err != nil {
		return digestVersion{}, err
	}
	return digestVersion{version: withMeta.String(), digest: digest}, nil
}
