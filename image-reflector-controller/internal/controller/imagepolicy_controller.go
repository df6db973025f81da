package controller

import (
	"context"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/policy"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
)

// ImagePolicyReconciler chooses the latest image of an ImageRepository for each ImagePolicy.
type ImagePolicyReconciler struct {
	client.Client
	cfg    Config
	events reconcile.EventRecorder
	engine *reconcile.Controller[*imagev1.ImagePolicy, *policyScope]
}

// policyScope carries one reconcile's state from step to step.
type policyScope struct {
	obj      *imagev1.ImagePolicy
	wasReady bool
	// policy is the compiled spec.policy and spec.filterTags.
	policy *policy.Policy
	// repo is the referenced ImageRepository.
	repo *imagev1.ImageRepository
	// tag is the tag the policy chose.
	tag string
}

// NewImagePolicyReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewImagePolicyReconciler(rt *manager.Runtime, c Config) (*ImagePolicyReconciler, error) {
	r := &ImagePolicyReconciler{Client: c.Client, cfg: c, events: rt.Events}
	if r.Client == nil {
		r.Client = rt.Manager.GetClient()
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*imagev1.ImagePolicy, *policyScope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      imagev1.ImagePolicyKind,
		NewObject: func() *imagev1.ImagePolicy { return &imagev1.ImagePolicy{} },
		NewScope: func(obj *imagev1.ImagePolicy) *policyScope {
			return &policyScope{obj: obj, wasReady: reconcile.IsTrue(obj, meta.ReadyCondition)}
		},
		Steps: []reconcile.Step[*policyScope]{
			{Name: "policy", Run: r.compile},
			{Name: "repository", Run: r.getRepository},
			{Name: "select", Run: r.selectTag},
			{Name: "resolve", Run: r.resolve},
		},
		Finalizer:     imagev1.ImageFinalizer,
		SuccessReason: meta.SucceededReason,
	})
	return r, err
}

// Reconcile runs one reconcile of an ImagePolicy.
func (r *ImagePolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// repositoryIndexKey indexes ImagePolicies by the "<namespace>/<name>" of their ImageRepository.
const repositoryIndexKey = ".spec.imageRepositoryRef"

// SetupWithManager registers the reconciler: ImagePolicies are reconciled on spec changes and
// reconcile requests, and when a scan of their ImageRepository finds a different set of tags.
func (r *ImagePolicyReconciler) SetupWithManager(rt *manager.Runtime) error {
	if err := rt.Manager.GetFieldIndexer().IndexField(context.Background(), &imagev1.ImagePolicy{}, repositoryIndexKey,
		func(o client.Object) []string {
			p := o.(*imagev1.ImagePolicy)
			return []string{storeKey(repositoryNamespace(p), p.Spec.ImageRepositoryRef.Name)}
		}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&imagev1.ImagePolicy{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		Watches(&imagev1.ImageRepository{}, handler.EnqueueRequestsFromMapFunc(r.policiesOf),
			builder.WithPredicates(scanChanged{})).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}

// policiesOf maps an ImageRepository to the ImagePolicies that use it.
func (r *ImagePolicyReconciler) policiesOf(ctx context.Context, o client.Object) []crreconcile.Request {
	var list imagev1.ImagePolicyList
	if err := r.List(ctx, &list, client.MatchingFields{repositoryIndexKey: storeKey(o.GetNamespace(), o.GetName())}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "failed to list the ImagePolicies of an ImageRepository")
		return nil
	}
	reqs := make([]crreconcile.Request, 0, len(list.Items))
	for _, p := range list.Items {
		reqs = append(reqs, crreconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	}
	return reqs
}

// scanChanged lets through ImageRepository updates whose scan found a different tag set
// (including the first scan).
type scanChanged struct{ predicate.Funcs }

func (scanChanged) Create(event.CreateEvent) bool   { return false }
func (scanChanged) Delete(event.DeleteEvent) bool   { return false }
func (scanChanged) Generic(event.GenericEvent) bool { return false }
func (scanChanged) Update(e event.UpdateEvent) bool {
	newRepo, ok := e.ObjectNew.(*imagev1.ImageRepository)
	oldRepo, ok2 := e.ObjectOld.(*imagev1.ImageRepository)
	if !ok || !ok2 || newRepo.Status.LastScanResult == nil {
		return false
	}
	return oldRepo.Status.LastScanResult == nil || oldRepo.Status.LastScanResult.Revision != newRepo.Status.LastScanResult.Revision
}

// repositoryNamespace is spec.imageRepositoryRef.namespace, defaulting to the policy's.
func repositoryNamespace(p *imagev1.ImagePolicy) string {
	if ns := p.Spec.ImageRepositoryRef.Namespace; ns != "" {
		return ns
	}
	return p.Namespace
}
