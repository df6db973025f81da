// Package controller reconciles ImageUpdateAutomations: read the GitRepository and its
// Secrets, collect the latest images of the selected ImagePolicies, and when they or the
// branch changed since the last run, clone, rewrite the setter-marked fields, commit and push
// (the update package), recording what it did in the status and as an event.
package controller

import (
	"context"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	gogit "github.com/go-git/go-git/v5"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	"gotk.dev/image-automation-controller/internal/setters"
	reflectorv1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/pkg/auth/gitprovider"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// Options are image-automation-controller's own flags and feature gates.
type Options struct {
	// NoCrossNamespaceRefs is --no-cross-namespace-refs: the GitRepository must be in the
	// automation's namespace.
	NoCrossNamespaceRefs bool
	// ForcePushBranch is the GitForcePushBranch gate: a push branch other than the checkout
	// branch is rebuilt from the checkout on every update instead of updated on top.
	ForcePushBranch bool
	// ShallowClone is the GitShallowClone gate: clone only the tip commit.
	ShallowClone bool
}

// Config is what an ImageUpdateAutomationReconciler is built from.
type Config struct {
	Options
	// Git is the client for GitRepositories without a proxy.
	Git *git.Client
	// Providers gets the Git credentials of a GitRepository's spec.provider (github, azure,
	// aws), with the token cache and cloud identities of --token-cache-* and the
	// ObjectLevelWorkloadIdentity gate; nil asks for tokens every time with the controller's
	// identity.
	Providers *gitprovider.Resolver
	// WorkDir holds the temporary clones (default: the system temporary directory).
	WorkDir string
	// Client overrides the manager's client (tests count its requests).
	Client client.Client
	// Now stamps commits and status times (default time.Now).
	Now func() time.Time
}

// ImageUpdateAutomationReconciler reconciles ImageUpdateAutomation objects.
type ImageUpdateAutomationReconciler struct {
	client.Client
	cfg    Config
	events reconcile.EventRecorder
	engine *reconcile.Controller[*imagev1.ImageUpdateAutomation, *scope]
}

// scope carries one reconcile's state from step to step.
type scope struct {
	obj *imagev1.ImageUpdateAutomation
	// source is the GitRepository, with its credentials and proxy.
	source *sourcev1.GitRepository
	auth   *git.AuthOptions
	proxy  *git.ProxyOptions
	// identity names who the GitRepository's spec.provider authenticates as (empty for
	// generic), for Git errors.
	identity string
	// checkout is what is cloned: spec.git.checkout.ref, else the GitRepository's spec.ref.
	checkout git.CheckoutRef
	// policies are the latest images of the selected ImagePolicies; observed is the same as
	// status.observedPolicies.
	policies []setters.Policy
	observed imagev1.ObservedPolicies
	signer   gogit.Signer
	started  time.Time
}

// NewImageUpdateAutomationReconciler builds the reconciler and its engine for rt's manager.
func NewImageUpdateAutomationReconciler(rt *manager.Runtime, c Config) (*ImageUpdateAutomationReconciler, error) {
	if c.Git == nil {
		c.Git = git.NewClient(git.ClientOptions{})
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	r := &ImageUpdateAutomationReconciler{Client: c.Client, cfg: c, events: rt.Events}
	if r.Client == nil {
		r.Client = rt.Manager.GetClient()
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*imagev1.ImageUpdateAutomation, *scope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      imagev1.ImageUpdateAutomationKind,
		NewObject: func() *imagev1.ImageUpdateAutomation { return &imagev1.ImageUpdateAutomation{} },
		NewScope: func(obj *imagev1.ImageUpdateAutomation) *scope {
			return &scope{obj: obj, started: c.Now()}
		},
		Steps: []reconcile.Step[*scope]{
			{Name: "spec", Run: r.validate},
			{Name: "source", Run: r.getSource},
			{Name: "policies", Run: r.getPolicies},
			// Unchanged policies and an unchanged branch end the run here: one ref listing.
			{Name: "unchanged", Run: r.skipUnchanged},
			{Name: "signing-key", Run: r.getSigner},
			{Name: "update", Run: r.update},
		},
		Finalizer:     imagev1.ImageUpdateAutomationFinalizer,
		SuccessReason: meta.SucceededReason,
		EventMetadata: func(obj *imagev1.ImageUpdateAutomation) map[string]string {
			return revisionMetadata(obj.Status.ObservedSourceRevision)
		},
	})
	return r, err
}

// Reconcile runs one reconcile of an ImageUpdateAutomation.
func (r *ImageUpdateAutomationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// sourceIndexKey indexes automations by the "<namespace>/<name>" of their GitRepository.
const sourceIndexKey = ".spec.sourceRef"

// SetupWithManager registers the reconciler: automations run on spec changes, reconcile
// requests and their interval, when an ImagePolicy of their namespace selects another
// image, and when their GitRepository changes spec or fetches a new revision.
func (r *ImageUpdateAutomationReconciler) SetupWithManager(rt *manager.Runtime) error {
	if err := rt.Manager.GetFieldIndexer().IndexField(context.Background(), &imagev1.ImageUpdateAutomation{}, sourceIndexKey,
		func(o client.Object) []string {
			a := o.(*imagev1.ImageUpdateAutomation)
			return []string{a.GetSourceNamespace() + "/" + a.Spec.SourceRef.Name}
		}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&imagev1.ImageUpdateAutomation{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		Watches(&reflectorv1.ImagePolicy{}, handler.EnqueueRequestsFromMapFunc(r.automationsInNamespace),
			builder.WithPredicates(latestImageChanged{})).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.automationsOfSource),
			builder.WithPredicates(predicate.Or[client.Object](reconcile.ArtifactChanged(), predicate.GenerationChangedPredicate{}))).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}

// automationsInNamespace maps an ImagePolicy to the automations of its namespace: which of
// them use it is known only from their selector and the markers in Git.
func (r *ImageUpdateAutomationReconciler) automationsInNamespace(ctx context.Context, o client.Object) []crreconcile.Request {
	return r.requests(ctx, client.InNamespace(o.GetNamespace()))
}

// automationsOfSource maps a GitRepository to the automations that push to it.
func (r *ImageUpdateAutomationReconciler) automationsOfSource(ctx context.Context, o client.Object) []crreconcile.Request {
	return r.requests(ctx, client.MatchingFields{sourceIndexKey: o.GetNamespace() + "/" + o.GetName()})
}

func (r *ImageUpdateAutomationReconciler) requests(ctx context.Context, opts ...client.ListOption) []crreconcile.Request {
	var list imagev1.ImageUpdateAutomationList
	if err := r.List(ctx, &list, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "failed to list ImageUpdateAutomations")
		return nil
	}
	reqs := make([]crreconcile.Request, 0, len(list.Items))
	for _, a := range list.Items {
		reqs = append(reqs, crreconcile.Request{NamespacedName: types.NamespacedName{Namespace: a.Namespace, Name: a.Name}})
	}
	return reqs
}

// latestImageChanged lets through ImagePolicy updates that select another image.
type latestImageChanged struct{ predicate.Funcs }

func (latestImageChanged) Create(e event.CreateEvent) bool {
	p, ok := e.Object.(*reflectorv1.ImagePolicy)
	return ok && p.Status.LatestRef != nil
}
func (latestImageChanged) Delete(event.DeleteEvent) bool   { return false }
func (latestImageChanged) Generic(event.GenericEvent) bool { return false }
func (latestImageChanged) Update(e event.UpdateEvent) bool {
	newP, ok := e.ObjectNew.(*reflectorv1.ImagePolicy)
	oldP, ok2 := e.ObjectOld.(*reflectorv1.ImagePolicy)
	if !ok || !ok2 || newP.Status.LatestRef == nil {
		return false
	}
	return oldP.Status.LatestRef == nil || *oldP.Status.LatestRef != *newP.Status.LatestRef
}

// revisionMetadata names a Git revision on events, for notification-controller (Git commit
// status providers read it).
func revisionMetadata(rev string) map[string]string {
	if rev == "" {
		return nil
	}
	return map[string]string{imagev1.GroupVersion.Group + "/revision": rev}
}
