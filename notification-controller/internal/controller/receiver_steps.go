package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	apiv1 "gotk.dev/notification-controller/api/v1"
	"gotk.dev/notification-controller/internal/receiver"
	"gotk.dev/pkg/reconcile"
)

// reconcileToken reads the `token` key of spec.secretRef, which salts the webhook path and,
// for most types, authenticates requests.
func (r *ReceiverReconciler) reconcileToken(ctx context.Context, s *receiverScope) (reconcile.Result, error) {
	obj := s.obj
	if obj.Spec.Type == apiv1.GenericOIDCReceiver {
		return reconcile.Result{}, reconcile.Stall(apiv1.ValidationFailedReason,
			fmt.Errorf("Receiver %s/%s: spec.type %q is not supported by this notification-controller", obj.Namespace, obj.Name, obj.Spec.Type))
	}
	if obj.Spec.SecretRef == nil || obj.Spec.SecretRef.Name == "" {
		return reconcile.Result{}, reconcile.Stall(apiv1.ValidationFailedReason,
			fmt.Errorf("Receiver %s/%s: spec.secretRef is required for type %q", obj.Namespace, obj.Name, obj.Spec.Type))
	}
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Spec.SecretRef.Name}
	var secret corev1.Secret
	if err := r.client.Get(ctx, key, &secret); err != nil {
		return reconcile.Result{}, reconcile.Fail(apiv1.TokenNotFoundReason,
			fmt.Errorf("unable to read token from secret '%s' error: %w", key, err))
	}
	token, ok := secret.Data["token"]
	if !ok || len(token) == 0 {
		return reconcile.Result{}, reconcile.Fail(apiv1.TokenNotFoundReason,
			fmt.Errorf("invalid '%s' secret data: required field 'token'", key))
	}
	s.token = string(token)
	return reconcile.Result{}, nil
}

// reconcileResources compiles spec.resources and the CEL filters the way the webhook server
// will, so a mistake stalls the Receiver instead of failing every webhook.
func (r *ReceiverReconciler) reconcileResources(_ context.Context, s *receiverScope) (reconcile.Result, error) {
	if _, err := receiver.NewSelector(s.obj, r.NoCrossNamespaceRefs); err != nil {
		reason := apiv1.ValidationFailedReason
		var fe *receiver.FilterError
		if errors.As(err, &fe) {
			reason = apiv1.InvalidCELExpressionReason
		}
		return reconcile.Result{}, reconcile.Stall(reason, fmt.Errorf("Receiver %s/%s: %w", s.obj.Namespace, s.obj.Name, err))
	}
	return reconcile.Result{}, nil
}

// reconcileWebhookPath publishes /hook/sha256(token+name+namespace).
func (r *ReceiverReconciler) reconcileWebhookPath(_ context.Context, s *receiverScope) (reconcile.Result, error) {
	path := receiver.WebhookPath(s.token, s.obj.Name, s.obj.Namespace)
	s.obj.Status.WebhookPath = path
	return reconcile.Result{Reason: meta.SucceededReason, Message: "Receiver initialised for path: " + path}, nil
}
