package controller

import (
	"context"
	"os"

	"github.com/fluxcd/pkg/apis/meta"
	"golang.org/x/sync/singleflight"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm/chart"
)

// HelmChartReconciler produces chart archives from HelmRepositories (HTTP or OCI), and from
// chart directories or packaged charts in GitRepository and Bucket artifacts.
type HelmChartReconciler struct {
	client.Client
	HelmConfig
	remotes *helmRemotes
	events  reconcile.EventRecorder
	engine  *reconcile.Controller[*sourcev1.HelmChart, *helmChartScope]

	// built remembers the stored blob of each build key, so HelmCharts that resolve to the
	// same chart build (one chart version of one repository, the same values files) link it
	// instead of downloading and packaging it again.
	built *buildMemo[builtChart]
	// flights coalesces concurrent builds of one key: the first HelmChart builds and stores,
	// the others link its blob.
	flights singleflight.Group
}

// builtChart is a stored chart blob and the build that produced it (Data left out).
type builtChart struct {
	digest string
	build  chart.Build
}

// NewHelmChartReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewHelmChartReconciler(rt *manager.Runtime, c HelmConfig) (*HelmChartReconciler, error) {
	r := &HelmChartReconciler{Client: c.Client, HelmConfig: c, events: rt.Events, built: newBuildMemo[builtChart](4096)}
	if r.Client == nil {
		r.Client = rt.Manager.GetClient()
	}
	if r.Verification == nil {
		r.Verification = NewVerification(c.TmpDir)
	}
	r.remotes = &helmRemotes{client: r.Client, storage: c.Storage, cache: c.IndexCache, limits: c.Limits, userAgent: c.UserAgent,
		logins: c.CloudLogins}
	if r.remotes.logins == nil {
		r.remotes.logins = &cloud.Logins{}
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*sourcev1.HelmChart, *helmChartScope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      sourcev1.HelmChartKind,
		NewObject: func() *sourcev1.HelmChart { return &sourcev1.HelmChart{} },
		NewScope:  func(obj *sourcev1.HelmChart) *helmChartScope { return &helmChartScope{obj: obj} },
		Steps: []reconcile.Step[*helmChartScope]{
			{Name: "storage", Run: r.reconcileStorage},
			// The source step reports its failures as FetchFailed itself; the build step
			// owns that condition so it does not flap while a build keeps failing.
			{Name: "source", Run: r.reconcileSource},
			{Name: "build", Run: r.reconcileBuild, Owns: []string{sourcev1.FetchFailedCondition,
				sourcev1.BuildFailedCondition}},
			{Name: "artifact", Run: r.reconcileArtifact, Owns: []string{sourcev1.ArtifactOutdatedCondition,
				sourcev1.StorageOperationFailedCondition}},
		},
		Finalize:      r.finalize,
		SuccessReason: meta.SucceededReason,
		EventMetadata: func(obj *sourcev1.HelmChart) map[string]string {
			if a := obj.Status.Artifact; a != nil {
				return map[string]string{sourcev1.GroupVersion.Group + "/revision": a.Revision}
			}
			return nil
		},
	})
	return r, err
}

// helmChartScope carries one reconcile's state from step to step.
type helmChartScope struct {
	obj *sourcev1.HelmChart
	// repo is the source when it is a HelmRepository.
	repo *sourcev1.HelmRepository
	// sourceArtifact is the artifact of a GitRepository, Bucket or HTTP HelmRepository (its
	// index); nil for an OCI HelmRepository.
	sourceArtifact *meta.Artifact
	// upToDate is set when the stored chart is what the spec and source resolve to.
	upToDate bool
	// build is the chart built (without its bytes) and linked its stored artifact, when the
	// stored chart was not current.
	build  *chart.Build
	linked *meta.Artifact
	// workDir holds the extracted source artifact.
	workDir string
	closers []func()
}

// sourceRevision is status.observedSourceArtifactRevision for this reconcile.
func (s *helmChartScope) sourceRevision() string {
	if s.sourceArtifact == nil {
		return ""
	}
	return s.sourceArtifact.Revision
}

// Close releases the repository clients and removes the working directory.
func (s *helmChartScope) Close() {
	for _, c := range s.closers {
		c()
	}
	if s.workDir != "" {
		_ = os.RemoveAll(s.workDir)
	}
}

// Reconcile runs one reconcile of a HelmChart.
func (r *HelmChartReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler: HelmCharts are reconciled on spec changes and
// reconcile requests, and when their source gets a new artifact.
func (r *HelmChartReconciler) SetupWithManager(rt *manager.Runtime) error {
	if err := indexHelmChartSources(rt.Manager); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(rt.Manager).
		For(&sourcev1.HelmChart{}, builder.WithPredicates(reconcile.SpecOrRequestChanged()))
	for _, src := range []client.Object{&sourcev1.HelmRepository{}, &sourcev1.GitRepository{}, &sourcev1.Bucket{}} {
		b = b.Watches(src, r.chartsOfSource(), builder.WithPredicates(reconcile.ArtifactChanged()))
	}
	return b.WithOptions(rt.ControllerOptions()).Complete(r)
}

// reconcileStorage checks the stored chart (see checkStoredArtifact). ArtifactInStorage keeps
// the message of the build that stored the chart ("pulled 'podinfo' chart with version
// '6.0.3'"), which is also the Ready message while the chart is current.
func (r *HelmChartReconciler) reconcileStorage(ctx context.Context, s *helmChartScope) (reconcile.Result, error) {
	a := checkStoredArtifact(ctx, r.Storage, s.obj, sourcev1.HelmChartKind)
	if a != nil && reconcile.GetCondition(s.obj, sourcev1.ArtifactInStorageCondition) == nil {
		reconcile.MarkTrue(s.obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason, readyMessage(a.Revision, nil))
	}
	setHelmChartURL(s.obj)
	return reconcile.Result{}, nil
}

// finalize removes the object's charts from storage.
func (r *HelmChartReconciler) finalize(ctx context.Context, obj *sourcev1.HelmChart) error {
	return r.Storage.RemoveAll(artifact.ObjectRef{Kind: sourcev1.HelmChartKind, Namespace: obj.Namespace, Name: obj.Name})
}

// setHelmChartURL sets status.url to the stored chart's address.
func setHelmChartURL(obj *sourcev1.HelmChart) {
	if a := obj.Status.Artifact; a != nil {
		obj.Status.URL = a.URL
	} else {
		obj.Status.URL = ""
	}
}
