package controller

import (
	"context"
	"os"
	"time"

	"github.com/fluxcd/pkg/apis/meta"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// OCIConfig is what an OCIRepositoryReconciler is built from.
type OCIConfig struct {
	Storage *artifact.Storage
	// NewClient builds a registry client for one object's credentials and TLS settings.
	NewClient func(oci.ClientOptions) (*oci.Client, error)
	// MaxArtifactSize caps the uncompressed size of an extracted layer (0: no cap).
	MaxArtifactSize int64
	UserAgent       string
	TmpDir          string
	// Client overrides the manager's client (tests count its requests).
	Client client.Client
	// CloudLogins logs in to registries for spec.provider aws, azure and gcp; nil gets one
	// without a token cache.
	CloudLogins *cloud.Logins
	// Verification is spec.verify's shared state (verified digests, Sigstore's public root);
	// nil gets one of its own.
	Verification *Verification
}

// OCIRepositoryReconciler produces artifacts from OCI artifacts in container registries.
type OCIRepositoryReconciler struct {
	client.Client
	OCIConfig
	events reconcile.EventRecorder
	engine *reconcile.Controller[*sourcev1.OCIRepository, *ociScope]

	// built remembers which stored blob an (artifact digest, layer selection, ignore rules)
	// produced, so objects pointing at the same artifact link the blob instead of pulling and
	// packing it again.
	built *buildMemo[builtArtifact]
}

// NewOCIRepositoryReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewOCIRepositoryReconciler(rt *manager.Runtime, c OCIConfig) (*OCIRepositoryReconciler, error) {
	r := &OCIRepositoryReconciler{Client: c.Client, OCIConfig: c, events: rt.Events, built: newBuildMemo[builtArtifact](4096)}
	if r.Client == nil {
		r.Client = rt.Manager.GetClient()
	}
	if r.NewClient == nil {
		r.NewClient = oci.NewClient
	}
	if r.Verification == nil {
		r.Verification = NewVerification(c.TmpDir)
	}
	if r.CloudLogins == nil {
		r.CloudLogins = &cloud.Logins{}
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*sourcev1.OCIRepository, *ociScope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      sourcev1.OCIRepositoryKind,
		NewObject: func() *sourcev1.OCIRepository { return &sourcev1.OCIRepository{} },
		NewScope:  func(obj *sourcev1.OCIRepository) *ociScope { return &ociScope{obj: obj} },
		Steps: []reconcile.Step[*ociScope]{
			{Name: "storage", Run: r.reconcileStorage},
			{Name: "source", Run: r.reconcileSource, Owns: []string{sourcev1.FetchFailedCondition}},
			// Before the pull: an artifact whose signature does not verify is never stored.
			{Name: "verify", Run: r.reconcileVerify},
			{Name: "artifact", Run: r.reconcileArtifact, Owns: []string{sourcev1.ArtifactOutdatedCondition,
				sourcev1.BuildFailedCondition, sourcev1.StorageOperationFailedCondition}},
		},
		Timeout:       func(obj *sourcev1.OCIRepository) time.Duration { return obj.GetTimeout() },
		Finalize:      r.finalize,
		SuccessReason: meta.SucceededReason,
	})
	return r, err
}

// ociScope carries one reconcile's state from step to step.
type ociScope struct {
	obj      *sourcev1.OCIRepository
	client   *oci.Client
	repoURL  string
	resolved oci.Resolved
	revision string
	upToDate bool
	workDir  string
}

// Reconcile runs one reconcile of an OCIRepository.
func (r *OCIRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler.
func (r *OCIRepositoryReconciler) SetupWithManager(rt *manager.Runtime) error {
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&sourcev1.OCIRepository{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}

// reconcileStorage checks the stored artifact (see reconcileStorage).
func (r *OCIRepositoryReconciler) reconcileStorage(ctx context.Context, s *ociScope) (reconcile.Result, error) {
	reconcileStorage(ctx, r.Storage, s.obj, sourcev1.OCIRepositoryKind)
	setDownloadURL(s.obj)
	return reconcile.Result{}, nil
}

// Close removes the working directory.
func (s *ociScope) Close() {
	if s.workDir != "" {
		_ = os.RemoveAll(s.workDir)
	}
}

func (r *OCIRepositoryReconciler) finalize(ctx context.Context, obj *sourcev1.OCIRepository) error {
	return r.Storage.RemoveAll(artifact.ObjectRef{Kind: sourcev1.OCIRepositoryKind, Namespace: obj.Namespace, Name: obj.Name})
}

// setDownloadURL sets status.url, which upstream documents as "the download link for the
// artifact output of the last OCI Repository sync": the stored artifact's URL, kept current
// when the advertised storage address changes.
func setDownloadURL(obj *sourcev1.OCIRepository) {
	if a := obj.Status.Artifact; a != nil {
		obj.Status.URL = a.URL
	}
}
