package controller

import (
	"context"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// OCIRepositoryReconciler produces artifacts from OCI artifacts in container registries.
type OCIRepositoryReconciler struct {
	client.Client
	Storage *artifact.Storage
	// NewClient builds a registry client for one object's credentials and TLS settings.
	NewClient func(oci.ClientOptions) (*oci.Client, error)
	// MaxArtifactSize caps the uncompressed size of an extracted layer (0: no cap).
	MaxArtifactSize int64
	UserAgent       string
	TmpDir          string

	// built remembers which stored blob an (artifact digest, layer selection, ignore rules)
	// produced, so objects pointing at the same artifact link the blob instead of pulling and
	// packing it again.
	built *buildMemo
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

// SetupWithManager registers the reconciler.
func (r *OCIRepositoryReconciler) SetupWithManager(rt *manager.Runtime) error {
	r.built = newBuildMemo(4096)
	engine := &reconcile.Controller[*sourcev1.OCIRepository]{
		Client:            r.Client,
		Kind:              sourcev1.OCIRepositoryKind,
		Events:            rt.Events,
		Metrics:           rt.Metrics,
		NewObject:         func() *sourcev1.OCIRepository { return &sourcev1.OCIRepository{} },
		Steps:             r.steps(rt),
		Finalize:          r.finalize,
		SuccessReason:     "Succeeded",
		RequeueDependency: rt.RequeueDependency(),
		JitterPercent:     rt.JitterPercent(),
	}
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&sourcev1.OCIRepository{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		WithOptions(rt.ControllerOptions()).
		Complete(engine)
}

// steps is the ordered step list of an OCIRepository reconcile.
func (r *OCIRepositoryReconciler) steps(rt *manager.Runtime) func(context.Context, *sourcev1.OCIRepository, *reconcile.Patcher) (reconcile.Result, error) {
	return func(ctx context.Context, obj *sourcev1.OCIRepository, _ *reconcile.Patcher) (reconcile.Result, error) {
		ctx, cancel := context.WithTimeout(ctx, obj.GetTimeout())
		defer cancel()
		s := &ociScope{obj: obj}
		defer func() {
			if s.workDir != "" {
				_ = os.RemoveAll(s.workDir)
			}
		}()

		reconcileStorage(ctx, r.Storage, obj, sourcev1.OCIRepositoryKind)
		defer setDownloadURL(obj)
		if err := r.reconcileSource(ctx, s); err != nil {
			return reconcile.Result{}, err
		}
		if err := r.reconcileArtifact(ctx, rt, s); err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{Message: readyMessage(obj.Status.Artifact.Revision, nil)}, nil
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
