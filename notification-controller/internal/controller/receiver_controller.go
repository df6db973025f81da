package controller

import (
	"context"

	"github.com/fluxcd/pkg/apis/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	apiv1 "gotk.dev/notification-controller/api/v1"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
)

// ReceiverConfig is what a ReceiverReconciler is built from.
type ReceiverConfig struct {
	// NoCrossNamespaceRefs (--no-cross-namespace-refs) refuses resources in other namespaces
	// than the Receiver's.
	NoCrossNamespaceRefs bool
	// Client overrides the manager's client (tests).
	Client client.Client
}

// ReceiverReconciler makes Receivers ready: it reads the token, checks the resources and
// their CEL filters, and publishes the webhook path in status.webhookPath, where the
// ReceiverServer finds it.
type ReceiverReconciler struct {
	client client.Client
	ReceiverConfig
	engine *reconcile.Controller[*apiv1.Receiver, *receiverScope]
}

// receiverScope carries one reconcile's state from step to step.
type receiverScope struct {
	obj   *apiv1.Receiver
	token string
}

// NewReceiverReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewReceiverReconciler(rt *manager.Runtime, c ReceiverConfig) (*ReceiverReconciler, error) {
	r := &ReceiverReconciler{client: c.Client, ReceiverConfig: c}
	if r.client == nil {
		r.client = rt.Manager.GetClient()
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*apiv1.Receiver, *receiverScope]{
		Shared:    rt.Shared(),
		Client:    r.client,
		Kind:      apiv1.ReceiverKind,
		NewObject: func() *apiv1.Receiver { return &apiv1.Receiver{} },
		NewScope:  func(obj *apiv1.Receiver) *receiverScope { return &receiverScope{obj: obj} },
		Steps: []reconcile.Step[*receiverScope]{
			{Name: "token", Run: r.reconcileToken},
			{Name: "resources", Run: r.reconcileResources},
			{Name: "webhook-path", Run: r.reconcileWebhookPath},
		},
		SuccessReason: meta.SucceededReason,
	})
	return r, err
}

// Reconcile runs one reconcile of a Receiver.
func (r *ReceiverReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler for spec changes and reconcile requests. The
// token Secret is not watched (Secrets are not cached); spec.interval re-reads it, and the
// ReceiverServer checks every request's path against the token it reads then.
func (r *ReceiverReconciler) SetupWithManager(rt *manager.Runtime) error {
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&apiv1.Receiver{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}
