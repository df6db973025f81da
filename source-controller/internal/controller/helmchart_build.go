package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	ctrl "sigs.k8s.io/controller-runtime"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/tarball"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm/chart"
	"gotk.dev/source-controller/internal/helm/repository"
)

// reconcileBuild resolves the chart the spec points at and, unless the stored chart is it
// already, builds it: pulled from the repository (repackaged with values files), or packaged
// from the source artifact with its dependencies. A build another HelmChart already stored is
// linked instead.
func (r *HelmChartReconciler) reconcileBuild(ctx context.Context, s *helmChartScope) (reconcile.Result, error) {
	obj := s.obj
	switch {
	case obj.Spec.Verify == nil:
		reconcile.DeleteCondition(obj, sourcev1.SourceVerifiedCondition)
	case s.repo == nil || !s.repo.IsOCI():
		err := fmt.Errorf("spec.verify is only supported for charts of an OCI HelmRepository, not a %s", describeChartSource(s))
		reconcile.MarkFalse(obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationError, err.Error())
		return reconcile.Result{}, reconcile.Stall(sourcev1.VerificationError, err)
	}
	opts := chart.BuildOptions{
		ValuesFiles:              obj.Spec.ValuesFiles,
		IgnoreMissingValuesFiles: obj.Spec.IgnoreMissingValuesFiles,
		VersionMetadata: chart.VersionMetadata(chart.MetadataOptions{
			SourceKind:        obj.Spec.SourceRef.Kind,
			ReconcileStrategy: obj.GetReconcileStrategy(),
			SourceRevision:    s.sourceRevision(),
			ValuesFiles:       obj.Spec.ValuesFiles,
			Generation:        obj.Generation,
		}),
		Limits: r.Limits,
	}
	var err error
	if s.repo != nil {
		err = r.buildRemote(ctx, s, opts)
	} else {
		err = r.buildLocal(ctx, s, opts)
	}
	var se *storageError
	switch {
	case errors.As(err, &se):
		reconcile.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err.Error())
		return reconcile.Result{}, reconcile.Fail(sourcev1.ArchiveOperationFailedReason, err)
	case err != nil:
		return reconcile.Result{}, chartBuildFailure(obj, err)
	}
	return reconcile.Result{}, nil
}

// buildRemote resolves the chart version in the HelmRepository (the cached index, or the
// registry's tags) and pulls it when it is not the stored one.
func (r *HelmChartReconciler) buildRemote(ctx context.Context, s *helmChartScope, opts chart.BuildOptions) error {
	obj, repo := s.obj, s.repo
	rem, err := r.remotes.remoteFor(ctx, repo)
	if err != nil {
		if !isTyped(err) {
			err = reconcile.Fail(sourcev1.IndexationFailedReason,
				fmt.Errorf("failed to load index of HelmRepository '%s': %w", repo.Name, err))
		}
		return err
	}
	s.closers = append(s.closers, rem.Close)
	res, err := chart.ResolveRemote(ctx, rem, chart.RemoteReference{Name: obj.Spec.Chart, Version: obj.GetVersion()}, opts)
	if err != nil {
		return err
	}
	if obj.Spec.Verify != nil {
		if err := r.verifyChart(ctx, s, rem, res); err != nil {
			return err
		}
	}
	if s.chartCurrent(res.Name, res.Version) {
		s.upToDate = true
		return nil
	}
	markNewChart(obj, res.Name, res.Version)
	return r.buildShared(ctx, s, remoteBuildKey(repo, s.sourceRevision(), res, opts), func() (*chart.Build, error) {
		return chart.BuildRemote(ctx, rem, res, opts)
	})
}

// buildLocal packages the chart at spec.chart in the GitRepository or Bucket artifact. The
// stored chart stays while neither the source revision nor the spec changed (no extraction).
func (r *HelmChartReconciler) buildLocal(ctx context.Context, s *helmChartScope, opts chart.BuildOptions) error {
	obj := s.obj
	st := &obj.Status
	if obj.Status.Artifact != nil && st.ObservedChartName != "" && st.ObservedSourceArtifactRevision == s.sourceRevision() &&
		st.ObservedGeneration == obj.Generation && !reconcile.IsTrue(obj, meta.StalledCondition) {
		s.upToDate = true
		return nil
	}
	err := r.buildShared(ctx, s, localBuildKey(obj, s.sourceArtifact, opts), func() (*chart.Build, error) {
		dir, err := os.MkdirTemp(r.TmpDir, fmt.Sprintf("helmchart-%s-%s-", obj.Namespace, obj.Name))
		if err != nil {
			return nil, reconcile.Fail(sourcev1.DirCreationFailedReason, fmt.Errorf("failed to create temporary working directory: %w", err))
		}
		defer os.RemoveAll(dir)
		root := filepath.Join(dir, "source")
		if err := r.extractSource(s.sourceArtifact, root); err != nil {
			return nil, reconcile.Fail(sourcev1.ArchiveOperationFailedReason, fmt.Errorf("failed to extract %s artifact '%s': %w",
				obj.Spec.SourceRef.Kind, s.sourceArtifact.Revision, err))
		}
		return chart.BuildLocal(ctx, chart.LocalReference{Root: root, Path: obj.Spec.Chart}, opts, r.dependencyResolver(s))
	})
	if err != nil {
		return err
	}
	markNewChart(obj, s.build.Name, s.build.Version)
	return nil
}

// extractSource unpacks a stored source artifact (written by this controller, still read as
// untrusted: no traversal, no links out).
func (r *HelmChartReconciler) extractSource(a *meta.Artifact, dir string) error {
	f, err := os.Open(r.Storage.LocalPath(a))
	if err != nil {
		return err
	}
	defer f.Close()
	return tarball.Extract(f, dir, tarball.ExtractOptions{})
}

// chartCurrent reports whether the stored chart is name at version for this generation (a
// stall at this generation means the stored chart predates it).
func (s *helmChartScope) chartCurrent(name, version string) bool {
	obj := s.obj
	a := obj.Status.Artifact
	return a != nil && a.Revision == version && obj.Status.ObservedChartName == name &&
		obj.Status.ObservedGeneration == obj.Generation && !reconcile.IsTrue(obj, meta.StalledCondition)
}

// markNewChart sets ArtifactOutdated when a stored chart is about to be replaced.
func markNewChart(obj *sourcev1.HelmChart, name, version string) {
	if a := obj.Status.Artifact; a != nil && (a.Revision != version || obj.Status.ObservedChartName != name) {
		reconcile.MarkTrue(obj, sourcev1.ArtifactOutdatedCondition, "NewChart",
			fmt.Sprintf("new chart '%s' with version '%s'", name, version))
	}
}

// buildShared gives s the chart of build key: linked from the blob a HelmChart stored for
// it before, or built once for every HelmChart that asks for it at the same time (the first
// one builds and stores, the others wait and link the blob). A build is remembered for later
// HelmCharts only when it is reproducible: a chart that fetched dependencies is not (their
// version ranges resolve differently over time).
func (r *HelmChartReconciler) buildShared(ctx context.Context, s *helmChartScope, key string, build func() (*chart.Build, error)) error {
	if memo, ok := r.built.get(key); ok && r.linkBuild(s, memo) == nil {
		return nil
	}
	v, err, _ := r.flights.Do(key, func() (any, error) {
		if memo, ok := r.built.get(key); ok {
			// Stored by a flight that ended just before this one started.
			return memo, nil
		}
		b, err := build()
		if err != nil {
			return nil, err
		}
		ref := artifact.ObjectRef{Kind: sourcev1.HelmChartKind, Namespace: s.obj.Namespace, Name: s.obj.Name}
		unlock := r.Storage.Lock(ref)
		a, err := r.Storage.StoreReader(ctx, ref, bytes.NewReader(b.Data), ".tgz")
		unlock()
		if err != nil {
			return nil, &storageError{err}
		}
		memo := builtChart{digest: a.Digest, build: *b}
		memo.build.Data = nil
		if b.ResolvedDependencies == 0 {
			r.built.put(key, memo)
		}
		return memo, nil
	})
	if err != nil {
		return err
	}
	if err := r.linkBuild(s, v.(builtChart)); err != nil {
		r.built.forget(key)
		return &storageError{fmt.Errorf("linking the chart stored for another HelmChart: %w", err)}
	}
	return nil
}

// linkBuild makes a stored chart blob this chart's artifact.
func (r *HelmChartReconciler) linkBuild(s *helmChartScope, memo builtChart) error {
	ref := artifact.ObjectRef{Kind: sourcev1.HelmChartKind, Namespace: s.obj.Namespace, Name: s.obj.Name}
	unlock := r.Storage.Lock(ref)
	a, err := r.Storage.LinkBlobExt(ref, memo.digest, ".tgz")
	unlock()
	if err != nil {
		return err
	}
	b := memo.build
	s.build, s.linked = &b, a
	return nil
}

// storageError is a failure to store or link a built chart (StorageOperationFailed).
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// remoteBuildKey names a build from a HelmRepository. It includes the repository object, not
// only its URL: one tenant's stored chart is never handed to another tenant's repository,
// whose credentials may not reach it.
func remoteBuildKey(repo *sourcev1.HelmRepository, indexRevision string, res *chart.Resolved, opts chart.BuildOptions) string {
	content := res.ChartVersion.Digest
	if content == "" {
		content = "index " + indexRevision
	}
	return strings.Join([]string{"remote", repo.Namespace, repo.Name, repository.NormalizeURL(repo.Spec.URL),
		res.Name, res.ChartVersion.Version, content, res.Version, valuesKey(opts)}, "\x00")
}

// localBuildKey names a build from a source artifact: its content, the chart path and
// everything the build adds. The namespace is part of it because dependencies resolve
// through the namespace's HelmRepositories.
func localBuildKey(obj *sourcev1.HelmChart, a *meta.Artifact, opts chart.BuildOptions) string {
	return strings.Join([]string{"local", obj.Namespace, a.Digest, obj.Spec.Chart, opts.VersionMetadata, valuesKey(opts)}, "\x00")
}

func valuesKey(opts chart.BuildOptions) string {
	return strings.Join(opts.ValuesFiles, "\x01") + "\x01" + strconv.FormatBool(opts.IgnoreMissingValuesFiles)
}

// dependencyResolver resolves a chart dependency's repository through the HelmRepository of
// the chart's namespace with that URL (its credentials, its cached index), and without
// credentials when there is none, as upstream.
func (r *HelmChartReconciler) dependencyResolver(s *helmChartScope) chart.DependencyResolver {
	anonymous := chart.AnonymousResolver(r.Limits)
	return func(ctx context.Context, repoURL string) (chart.Remote, error) {
		repo, err := r.helmRepositoryForURL(ctx, s.obj.Namespace, repoURL)
		if err != nil {
			return nil, err
		}
		if repo == nil {
			ctrl.LoggerFrom(ctx).V(1).Info("no HelmRepository for a dependency repository, fetching it anonymously", "url", repoURL)
			rem, err := anonymous(ctx, repoURL)
			if c, ok := rem.(interface{ Close() }); ok {
				s.closers = append(s.closers, c.Close)
			} else if cr, ok := rem.(*repository.ChartRepository); ok {
				s.closers = append(s.closers, cr.Client.Close)
			}
			return rem, err
		}
		rem, err := r.remotes.remoteFor(ctx, repo)
		if err != nil {
			return nil, fmt.Errorf("HelmRepository '%s': %w", repo.Name, err)
		}
		s.closers = append(s.closers, rem.Close)
		return rem, nil
	}
}

// chartBuildFailure reports a failed resolve or build as upstream does: reference and pull
// errors as FetchFailed, problems with the chart's content (values files, dependencies,
// packaging, metadata) as BuildFailed. Errors that only a spec change can fix stall.
func chartBuildFailure(obj *sourcev1.HelmChart, err error) error {
	if reason, ok := chart.ReasonOf(err); ok {
		typed := reconcile.Fail(reason.Reason, err)
		if reason.Persistent {
			typed = reconcile.Stall(reason.Reason, err)
		}
		switch reason {
		case chart.ReasonMetadataPatch, chart.ReasonValuesFiles, chart.ReasonDependency, chart.ReasonPackage:
			reconcile.DeleteCondition(obj, sourcev1.FetchFailedCondition)
			reconcile.MarkTrue(obj, sourcev1.BuildFailedCondition, reason.Reason, err.Error())
			return typed
		}
		return failChartFetch(obj, typed)
	}
	if !isTyped(err) {
		err = reconcile.Fail("Failed", err)
	}
	return failChartFetch(obj, err)
}

// isTyped reports whether err already carries a reconcile outcome.
func isTyped(err error) bool {
	var s *reconcile.Stalling
	var w *reconcile.Waiting
	var g *reconcile.Generic
	return errors.As(err, &s) || errors.As(err, &w) || errors.As(err, &g)
}
