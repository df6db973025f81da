package controller

import (
	"context"
	"os"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// GitConfig is what a GitRepositoryReconciler is built from.
type GitConfig struct {
	Storage *artifact.Storage
	Git     *git.Client
	// MaxArtifactSize caps the bytes of a repository's files that go into an artifact (0: no cap).
	MaxArtifactSize int64
	// AlwaysClone clones on every reconcile instead of first checking whether the remote
	// still has the stored revision (--feature-gates=OptimizedGitClones=false).
	AlwaysClone bool
	// MaxFileSize refuses a repository holding a larger file, ignored or not, before the
	// clone loads it (0: no cap; a clone then needs as much memory as its largest file).
	MaxFileSize int64
	// TmpDir is where clones are made (defaults to os.TempDir()).
	TmpDir string
	// Client overrides the manager's client (tests count its requests).
	Client client.Client
	// TokenCache keeps provider tokens (GitHub App installation tokens) between reconciles;
	// nil asks for a token every time.
	TokenCache *auth.TokenCache
	// CloudLogins gets Entra ID tokens for spec.provider azure (nil: one over TokenCache
	// without object-level identity).
	CloudLogins *cloud.Logins
}

// GitRepositoryReconciler produces artifacts from Git repositories.
type GitRepositoryReconciler struct {
	client.Client
	GitConfig
	events reconcile.EventRecorder
	engine *reconcile.Controller[*sourcev1.GitRepository, *gitScope]
}

// NewGitRepositoryReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewGitRepositoryReconciler(rt *manager.Runtime, c GitConfig) (*GitRepositoryReconciler, error) {
	r := &GitRepositoryReconciler{Client: c.Client, GitConfig: c, events: rt.Events}
	if r.Client == nil {
		r.Client = rt.Manager.GetClient()
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*sourcev1.GitRepository, *gitScope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      sourcev1.GitRepositoryKind,
		NewObject: func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
		NewScope:  func(obj *sourcev1.GitRepository) *gitScope { return &gitScope{obj: obj} },
		Steps: []reconcile.Step[*gitScope]{
			{Name: "storage", Run: r.reconcileStorage},
			// Includes are resolved first: the source step compares their artifacts with the
			// ones the stored artifact was built from to decide whether a clone is needed.
			{Name: "include", Run: r.reconcileInclude, Owns: []string{sourcev1.IncludeUnavailableCondition}},
			{Name: "source", Run: r.reconcileSource, Owns: []string{sourcev1.FetchFailedCondition}},
			{Name: "artifact", Run: r.reconcileArtifact, Owns: []string{sourcev1.ArtifactOutdatedCondition,
				sourcev1.BuildFailedCondition, sourcev1.StorageOperationFailedCondition}},
		},
		Timeout:       func(obj *sourcev1.GitRepository) time.Duration { return obj.GetTimeout() },
		Finalize:      r.finalize,
		SuccessReason: meta.SucceededReason,
	})
	return r, err
}

// gitScope carries one reconcile's state from step to step.
type gitScope struct {
	obj *sourcev1.GitRepository
	// auth and proxy come from spec.secretRef and spec.proxySecretRef.
	auth  *git.AuthOptions
	proxy *git.ProxyOptions
	// identity names who spec.provider authenticates as (empty for generic), for Git errors.
	identity string
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

// Reconcile runs one reconcile of a GitRepository.
func (r *GitRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler: GitRepositories are reconciled on spec changes
// and reconcile requests; a GitRepository that includes another is requeued when the included
// one gets a new artifact.
func (r *GitRepositoryReconciler) SetupWithManager(rt *manager.Runtime) error {
	if err := rt.Manager.GetFieldIndexer().IndexField(context.Background(), &sourcev1.GitRepository{},
		includeIndexKey, indexIncludes); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&sourcev1.GitRepository{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.includersOf),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}

// reconcileStorage checks the stored artifact (see reconcileStorage).
func (r *GitRepositoryReconciler) reconcileStorage(ctx context.Context, s *gitScope) (reconcile.Result, error) {
	reconcileStorage(ctx, r.Storage, s.obj, sourcev1.GitRepositoryKind)
	return reconcile.Result{}, nil
}

// finalize removes the object's artifacts from storage.
func (r *GitRepositoryReconciler) finalize(ctx context.Context, obj *sourcev1.GitRepository) error {
	return r.Storage.RemoveAll(artifact.ObjectRef{Kind: sourcev1.GitRepositoryKind, Namespace: obj.Namespace, Name: obj.Name})
}

// Close removes the working directory.
func (s *gitScope) Close() {
	if s.workDir != "" {
		_ = os.RemoveAll(s.workDir)
	}
}

// FeatureGates are the gates source-controller accepts: upstream's names, with what they do
// here.
func FeatureGates() options.Gates {
	return options.Gates{
		"OptimizedGitClones":       {Default: true},
		"ForceGoGitImplementation": {Default: true, NoEffect: "go-git is the only Git implementation"},
		// spec.serviceAccountName of an OCIRepository with a cloud provider names its identity.
		"ObjectLevelWorkloadIdentity": {},
	}
}
