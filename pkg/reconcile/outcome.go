package reconcile

import (
	"context"
	"fmt"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"gotk.dev/pkg/redact"
)

// summarize derives Ready, Reconciling, Stalled, observedGeneration and the requeue result from
// the steps' outcome, and records the failure event. It is the one place outcomes become
// conditions.
//
// Every message goes through redact first: a step's error may wrap a URL with credentials
// (a remote base, a Git or registry address), and conditions and events are readable by
// anyone who can read the object.
func (c *Controller[T, S]) summarize(ctx context.Context, obj T, res Result, err error) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	res.Message = redact.String(res.Message)
	if v, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok {
		obj.SetLastHandledReconcileRequest(v)
	}
	if err == nil && res.Progressing {
		SetCondition(obj, meta.ReadyCondition, metav1.ConditionUnknown, meta.ProgressingReason, "Reconciliation in progress")
		MarkTrue(obj, meta.ReconcilingCondition, orDefault(res.Reason, meta.ProgressingReason), res.Message)
		DeleteCondition(obj, meta.StalledCondition)
		return ctrl.Result{RequeueAfter: res.RequeueAfter}, nil
	}
	if err == nil {
		MarkTrue(obj, meta.ReadyCondition, orDefault(res.Reason, c.o.SuccessReason), res.Message)
		DeleteCondition(obj, meta.ReconcilingCondition)
		DeleteCondition(obj, meta.StalledCondition)
		obj.SetObservedGeneration(obj.GetGeneration())
		after := res.RequeueAfter
		if after == 0 {
			after = obj.GetRequeueAfter()
		}
		return ctrl.Result{RequeueAfter: Jitter(after, c.o.JitterPercent)}, nil
	}

	stalling, waiting, generic := classify(err)
	// Classified on the original; from here on only the redacted error is seen.
	err = redact.Error(err)
	switch {
	case stalling != nil:
		if stalling.ReadyReason != "" {
			MarkFalse(obj, meta.ReadyCondition, stalling.ReadyReason, orDefault(stalling.ReadyMessage, err.Error()))
		} else {
			MarkFalse(obj, meta.ReadyCondition, stalling.Reason, err.Error())
		}
		MarkTrue(obj, meta.StalledCondition, stalling.Reason, err.Error())
		DeleteCondition(obj, meta.ReconcilingCondition)
		// The spec was seen and judged: kstatus reads this generation as Failed, not InProgress.
		obj.SetObservedGeneration(obj.GetGeneration())
		log.Error(err, "reconciliation stalled", "reason", stalling.Reason)
		c.o.Events.Event(obj, eventv1.EventSeverityError, stalling.Reason, err.Error(), c.eventMetadata(obj))
		return ctrl.Result{}, nil
	case waiting != nil:
		MarkFalse(obj, meta.ReadyCondition, waiting.Reason, err.Error())
		MarkTrue(obj, meta.ReconcilingCondition, meta.ProgressingWithRetryReason, err.Error())
		DeleteCondition(obj, meta.StalledCondition)
		after := c.waitDelay(waiting)
		log.Info(fmt.Sprintf("%s, retrying in %s", err.Error(), after), "reason", waiting.Reason)
		return ctrl.Result{RequeueAfter: after}, nil
	default:
		MarkFalse(obj, meta.ReadyCondition, generic.Reason, err.Error())
		MarkTrue(obj, meta.ReconcilingCondition, meta.ProgressingWithRetryReason, err.Error())
		DeleteCondition(obj, meta.StalledCondition)
		if !generic.Quiet {
			c.o.Events.Event(obj, eventv1.EventSeverityError, generic.Reason, err.Error(), c.eventMetadata(obj))
		}
		if generic.RequeueAfter > 0 {
			log.Error(err, "reconciliation failed", "reason", generic.Reason, "retryIn", generic.RequeueAfter.String())
			return ctrl.Result{RequeueAfter: generic.RequeueAfter}, nil
		}
		// controller-runtime logs the error and requeues with exponential backoff.
		return ctrl.Result{}, err
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
