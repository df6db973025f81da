package controller

import (
	"context"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// GitRepositoryReconciler produces artifacts from Git repositories.
type GitRepositoryReconciler struct {
	client.Client
	Storage *artifact.Storage
	Git     *git.Client
	// MaxArtifactSize caps the bytes of a repository's files that go into an artifact (0: no cap).
	MaxArtifactSize int64
	// TmpDir is where clones are made (defaults to os.TempDir()).
	TmpDir string
}

// gitScope carries one reconcile's state from step to step.
type gitScope struct {
	obj *sourcev1.GitRepository
	// auth and proxy come from spec.secretRef and spec.proxySecretRef.
	auth  *git.AuthOptions
	proxy *git.ProxyOptions
	// commit is the checked-out commit, nil when the fast path found nothing changed.
	commit *git.Commit
	// revision is the resolved revision string (main@sha1:...).
	revision string
	// workDir holds the checkout (and included repositories) to archive.
	workDir string
	// upToDate is set when the stored artifact already matches the remote and inputs.
	upToDate bool
	// includes are the artifacts of spec.include, resolved in order.
	includes []includedArtifact
	// skipped lists paths left out of the artifact, reported in the Ready message.
	skipped []string
}

// SetupWithManager registers the reconciler: GitRepositories are reconciled on spec changes
// and reconcile requests; a GitRepository that includes another is requeued when the included
// one gets a new artifact.
func (r *GitRepositoryReconciler) SetupWithManager(rt *manager.Runtime) error {
	if err := rt.Manager.GetFieldIndexer().IndexField(context.Background(), &sourcev1.GitRepository{},
		includeIndexKey, indexIncludes); err != nil {
		return err
	}
	engine := &reconcile.Controller[*sourcev1.GitRepository]{
		Client:            r.Client,
		Kind:              sourcev1.GitRepositoryKind,
		Events:            rt.Events,
		Metrics:           rt.Metrics,
		NewObject:         func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
		Steps:             r.steps(rt),
		Finalize:          r.finalize,
		SuccessReason:     "Succeeded",
		RequeueDependency: rt.RequeueDependency(),
		JitterPercent:     rt.JitterPercent(),
	}
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&sourcev1.GitRepository{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.includersOf),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		WithOptions(rt.ControllerOptions()).
		Complete(engine)
}

// steps is the ordered step list of a GitRepository reconcile.
func (r *GitRepositoryReconciler) steps(rt *manager.Runtime) func(context.Context, *sourcev1.GitRepository, *reconcile.Patcher) (reconcile.Result, error) {
	return func(ctx context.Context, obj *sourcev1.GitRepository, _ *reconcile.Patcher) (reconcile.Result, error) {
		ctx, cancel := context.WithTimeout(ctx, obj.GetTimeout())
		defer cancel()
		s := &gitScope{obj: obj}
		defer s.cleanup()

		reconcileStorage(ctx, r.Storage, obj, sourcev1.GitRepositoryKind)
		// Includes are resolved first: the source step compares their artifacts with the
		// ones the stored artifact was built from to decide whether a clone is needed.
		if err := r.reconcileInclude(ctx, s); err != nil {
			return reconcile.Result{}, err
		}
		if err := r.reconcileSource(ctx, s); err != nil {
			return reconcile.Result{}, err
		}
		if err := r.reconcileArtifact(ctx, rt, s); err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{Message: readyMessage(obj.Status.Artifact.Revision, s.skipped)}, nil
	}
}

// finalize removes the object's artifacts from storage.
func (r *GitRepositoryReconciler) finalize(ctx context.Context, obj *sourcev1.GitRepository) error {
	return r.Storage.RemoveAll(artifact.ObjectRef{Kind: sourcev1.GitRepositoryKind, Namespace: obj.Namespace, Name: obj.Name})
}

func (s *gitScope) cleanup() {
	if s.workDir != "" {
		_ = os.RemoveAll(s.workDir)
	}
}
