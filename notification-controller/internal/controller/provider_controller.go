package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "gotk.dev/notification-controller/api/v1"
	"gotk.dev/notification-controller/api/v1beta3"
	"gotk.dev/notification-controller/internal/dispatch"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
)

// invalidProviderRetry is how soon an invalid Provider is checked again: the fix is often a
// Secret created or corrected after the Provider, and Secrets are not watched.
const invalidProviderRetry = time.Minute

// ProviderConfig is what a ProviderReconciler is built from.
type ProviderConfig struct {
	// Registry holds the Providers' notifiers; the reconciler refreshes a changed Provider's.
	Registry *ProviderRegistry
	// Dispatcher's queue of a deleted Provider is stopped. Optional.
	Dispatcher *dispatch.Dispatcher
}

// ProviderReconciler checks Providers when they change: their Secrets (secretRef,
// certSecretRef, proxySecretRef) are read and a notifier is built, so a missing Secret, an
// invalid address or proxy, or an unknown type is reported when the Provider is applied,
// not at the first event. v1beta3 Providers are static objects (no status): problems are
// logged and, on the leader, recorded as a warning event on the Provider. It runs on every
// replica, since every replica's registry must drop a changed Provider's notifiers.
type ProviderReconciler struct {
	client client.Client
	mgr    ctrl.Manager
	events reconcile.EventRecorder
	ProviderConfig

	mu       sync.Mutex
	reported map[types.NamespacedName]string
}

// NewProviderReconciler builds the reconciler for rt's manager.
func NewProviderReconciler(rt *manager.Runtime, c ProviderConfig) (*ProviderReconciler, error) {
	if c.Registry == nil {
		return nil, errors.New("ProviderConfig.Registry is required")
	}
	return &ProviderReconciler{client: rt.Manager.GetClient(), mgr: rt.Manager, events: rt.Events, ProviderConfig: c,
		reported: map[types.NamespacedName]string{}}, nil
}

// SetupWithManager registers the reconciler for Provider spec changes, and for every
// Provider again when this replica becomes the leader.
func (r *ProviderReconciler) SetupWithManager(rt *manager.Runtime) error {
	opts := rt.ControllerOptions()
	opts.NeedLeaderElection = ptrFalse()
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&v1beta3.Provider{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WatchesRawSource(onElection(rt.Manager, r.enqueueAll)).
		WithOptions(opts).
		Complete(r)
}

// enqueueAll queues every Provider in the cache.
func (r *ProviderReconciler) enqueueAll(ctx context.Context, q workqueue.TypedRateLimitingInterface[crreconcile.Request]) {
	var list v1beta3.ProviderList
	if err := r.client.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing Providers after the election")
		return
	}
	for _, p := range list.Items {
		q.Add(crreconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	}
}

// Reconcile validates one Provider.
func (r *ProviderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var p v1beta3.Provider
	if err := r.client.Get(ctx, req.NamespacedName, &p); err != nil {
		if apierrors.IsNotFound(err) {
			r.Registry.Forget(req.NamespacedName)
			if r.Dispatcher != nil {
				r.Dispatcher.Forget(req.Namespace, req.Name)
			}
			r.forgetReport(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if err := dropStaleFinalizers(ctx, r.client, r.mgr, []client.Object{&p}); err != nil {
		return ctrl.Result{}, err
	}
	if p.Spec.Suspend {
		r.Registry.Forget(req.NamespacedName)
		r.forgetReport(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	if err := r.Registry.Validate(ctx, &p); err != nil {
		r.report(ctx, &p, err.Error())
		return ctrl.Result{RequeueAfter: invalidProviderRetry}, nil
	}
	r.forgetReport(req.NamespacedName)
	return ctrl.Result{}, nil
}

// report logs a Provider's problem and records it as a warning event on the leader, once
// per distinct message.
func (r *ProviderReconciler) report(ctx context.Context, p *v1beta3.Provider, msg string) {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reported[key] == msg {
		return
	}
	ctrl.LoggerFrom(ctx).Error(errors.New(msg), "invalid Provider")
	if isLeader(r.mgr) {
		r.events.Event(p, eventv1.EventSeverityError, apiv1.ValidationFailedReason, msg, nil)
		r.reported[key] = msg
	}
}

func (r *ProviderReconciler) forgetReport(key types.NamespacedName) {
	r.mu.Lock()
	delete(r.reported, key)
	r.mu.Unlock()
}
