package controller

import (
	"context"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/indexcache"
	"gotk.dev/source-controller/internal/helm/repository"
)

// HelmConfig is what the HelmRepository and HelmChart reconcilers are built from. They share
// IndexCache: the HelmRepository step puts each new index in it, and every HelmChart of the
// repository reads it from there.
type HelmConfig struct {
	Storage *artifact.Storage
	// IndexCache holds parsed repository indexes (--helm-cache-max-size, -ttl,
	// -purge-interval).
	IndexCache *indexcache.Cache
	// Limits are --helm-index-max-size, --helm-chart-max-size and --helm-chart-file-max-size.
	Limits    helm.Limits
	UserAgent string
	// TmpDir is where source artifacts are extracted to build charts (defaults to
	// os.TempDir()).
	TmpDir string
	// Client overrides the manager's client (tests count its requests).
	Client client.Client
	// Verification is HelmChart spec.verify's shared state; nil gets one of its own.
	Verification *Verification
	// CloudLogins logs in to OCI registries for spec.provider aws, azure and gcp; nil gets
	// one without a token cache.
	CloudLogins *cloud.Logins
}

// HelmRepositoryReconciler stores the index of HTTP Helm repositories as artifacts. OCI Helm
// repositories are data containers, as upstream: they are never reconciled and carry no
// status (see releaseOCI).
type HelmRepositoryReconciler struct {
	client.Client
	HelmConfig
	remotes *helmRemotes
	events  reconcile.EventRecorder
	engine  *reconcile.Controller[*sourcev1.HelmRepository, *helmRepoScope]
}

// NewHelmRepositoryReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewHelmRepositoryReconciler(rt *manager.Runtime, c HelmConfig) (*HelmRepositoryReconciler, error) {
	r := &HelmRepositoryReconciler{Client: c.Client, HelmConfig: c, events: rt.Events}
	if r.Client == nil {
		r.Client = rt.Manager.GetClient()
	}
	r.remotes = &helmRemotes{client: r.Client, storage: c.Storage, cache: c.IndexCache, limits: c.Limits, userAgent: c.UserAgent,
		logins: c.CloudLogins}
	if r.remotes.logins == nil {
		r.remotes.logins = &cloud.Logins{}
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*sourcev1.HelmRepository, *helmRepoScope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      sourcev1.HelmRepositoryKind,
		NewObject: func() *sourcev1.HelmRepository { return &sourcev1.HelmRepository{} },
		NewScope:  func(obj *sourcev1.HelmRepository) *helmRepoScope { return &helmRepoScope{obj: obj} },
		Steps: []reconcile.Step[*helmRepoScope]{
			{Name: "storage", Run: r.reconcileStorage},
			{Name: "source", Run: r.reconcileSource, Owns: []string{sourcev1.FetchFailedCondition}},
			{Name: "artifact", Run: r.reconcileArtifact, Owns: []string{sourcev1.ArtifactOutdatedCondition,
				sourcev1.StorageOperationFailedCondition}},
		},
		Timeout:       func(obj *sourcev1.HelmRepository) time.Duration { return obj.GetTimeout() },
		Finalize:      r.finalize,
		SuccessReason: meta.SucceededReason,
	})
	return r, err
}

// helmRepoScope carries one reconcile's state from step to step.
type helmRepoScope struct {
	obj *sourcev1.HelmRepository
	// index is the fetched, normalised index.
	index *repository.Index
	// upToDate is set when the stored artifact already holds the fetched index.
	upToDate bool
}

// Reconcile runs one reconcile of a HelmRepository; OCI repositories are only released.
func (r *HelmRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if handled, err := r.releaseOCI(ctx, req); handled || err != nil {
		return ctrl.Result{}, err
	}
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler. OCI HelmRepositories are filtered out unless
// they still carry the finalizer or status of an earlier type.
func (r *HelmRepositoryReconciler) SetupWithManager(rt *manager.Runtime) error {
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&sourcev1.HelmRepository{}, builder.WithPredicates(reconcile.SpecOrRequestChanged(), ociRelease())).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}

// reconcileStorage checks the stored index (see reconcileStorage) and keeps status.url on
// it.
func (r *HelmRepositoryReconciler) reconcileStorage(ctx context.Context, s *helmRepoScope) (reconcile.Result, error) {
	reconcileStorage(ctx, r.Storage, s.obj, sourcev1.HelmRepositoryKind)
	setHelmRepositoryURL(s.obj)
	return reconcile.Result{}, nil
}

// finalize removes the stored indexes and the cached one.
func (r *HelmRepositoryReconciler) finalize(ctx context.Context, obj *sourcev1.HelmRepository) error {
	r.IndexCache.Delete(obj.Namespace + "/" + obj.Name)
	return r.Storage.RemoveAll(artifact.ObjectRef{Kind: sourcev1.HelmRepositoryKind, Namespace: obj.Namespace, Name: obj.Name})
}

// setHelmRepositoryURL sets status.url to the stored index's address (upstream serves a
// stable index.yaml link there; this storage is content addressed, so it is the current
// artifact's URL, kept current when the advertised address changes).
func setHelmRepositoryURL(obj *sourcev1.HelmRepository) {
	if a := obj.Status.Artifact; a != nil {
		obj.Status.URL = a.URL
	} else {
		obj.Status.URL = ""
	}
}
