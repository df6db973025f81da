package reconcile

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"gotk.dev/pkg/events"
	"gotk.dev/pkg/metrics"
)

// Finalizer is the finalizer every Flux controller puts on the objects it reconciles.
const Finalizer = "finalizers.fluxcd.io"

// Result is what a kind's steps report on success.
type Result struct {
	// Message becomes the Ready=True condition message.
	Message string
	// RequeueAfter overrides the object's interval for the next run (0 keeps the interval).
	RequeueAfter time.Duration
}

// Controller runs objects of one kind through the fixed reconcile skeleton:
//
//	get -> deletion (Finalize, drop finalizer) -> add finalizer -> suspend -> Steps ->
//	derive Ready/Reconciling/Stalled, observedGeneration, lastHandledReconcileAt -> one status
//	patch (none when nothing changed) -> metrics -> requeue
//
// Steps set only their own abnormal conditions (FetchFailed, ArtifactInStorage, Healthy, ...);
// the engine derives the rest from the error type, in one place.
type Controller[T Object] struct {
	Client  client.Client
	Kind    string
	Events  *events.Recorder
	Metrics *metrics.Recorder
	// NewObject returns an empty object of the kind.
	NewObject func() T
	// Steps reconciles a live object. Return a typed error (Stall, Wait, Fail) on failure.
	Steps func(ctx context.Context, obj T, p *Patcher) (Result, error)
	// Finalize cleans up before the finalizer is removed; nil removes it at once.
	Finalize func(ctx context.Context, obj T) error
	// SuccessReason is the Ready=True reason ("Succeeded" for sources,
	// "ReconciliationSucceeded" for appliers, as upstream).
	SuccessReason string
	// RequeueDependency is the requeue delay of Waiting errors without their own.
	RequeueDependency time.Duration
	// JitterPercent spreads interval requeues by +/- this percentage.
	JitterPercent uint8
	// EventMetadata returns the annotations of the failure events the engine records
	// (`<group>/revision` of the attempted revision, ...), so that notification-controller
	// can tell which revision failed (Git commit statuses need it); nil records none.
	EventMetadata func(obj T) map[string]string
}

// eventMetadata returns the annotations of a failure event about obj.
func (c *Controller[T]) eventMetadata(obj T) map[string]string {
	if c.EventMetadata == nil {
		return nil
	}
	return c.EventMetadata(obj)
}

// Reconcile implements controller-runtime's reconcile.Reconciler.
func (c *Controller[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	start := time.Now()
	obj := c.NewObject()
	if err := c.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			c.Metrics.Forget(c.Kind, req.Namespace, req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	defer c.Metrics.RecordDuration(c.Kind, req.Namespace, req.Name, start)

	if !obj.GetDeletionTimestamp().IsZero() {
		return c.finalize(ctx, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		base := obj.DeepCopyObject().(client.Object)
		controllerutil.AddFinalizer(obj, Finalizer)
		// The finalizers list is replaced as a whole: lock on the resourceVersion so a
		// finalizer added by someone else meanwhile is not dropped.
		if err := c.Client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	c.Metrics.RecordSuspend(c.Kind, req.Namespace, req.Name, obj.IsSuspended())
	if obj.IsSuspended() {
		ctrl.LoggerFrom(ctx).V(1).Info("reconciliation is suspended for this object")
		return ctrl.Result{}, nil
	}

	p := &Patcher{client: c.Client, obj: obj, base: obj.DeepCopyObject().(client.Object)}
	res, err := c.Steps(ctx, obj, p)
	result, retErr := c.summarize(ctx, obj, res, err)
	if perr := p.PatchStatus(ctx); perr != nil {
		if apierrors.IsNotFound(perr) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("patch status: %w", perr)
	}
	return result, retErr
}

// summarize derives Ready, Reconciling, Stalled, observedGeneration and the requeue result from
// the steps' outcome, and emits the failure event.
func (c *Controller[T]) summarize(ctx context.Context, obj T, res Result, err error) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if v, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok {
		obj.SetLastHandledReconcileRequest(v)
	}
	if err == nil {
		reason := c.SuccessReason
		if reason == "" {
			reason = meta.SucceededReason
		}
		MarkTrue(obj, meta.ReadyCondition, reason, res.Message)
		DeleteCondition(obj, meta.ReconcilingCondition)
		DeleteCondition(obj, meta.StalledCondition)
		obj.SetObservedGeneration(obj.GetGeneration())
		after := res.RequeueAfter
		if after == 0 {
			after = obj.GetRequeueAfter()
		}
		return ctrl.Result{RequeueAfter: Jitter(after, c.JitterPercent)}, nil
	}

	var progressing *Progressing
	if errors.As(err, &progressing) {
		SetCondition(obj, meta.ReadyCondition, metav1.ConditionUnknown, meta.ProgressingReason, "Reconciliation in progress")
		MarkTrue(obj, meta.ReconcilingCondition, progressing.Reason, progressing.Message)
		DeleteCondition(obj, meta.StalledCondition)
		return ctrl.Result{RequeueAfter: progressing.RequeueAfter}, nil
	}
	stalling, waiting, generic := classify(err)
	switch {
	case stalling != nil:
		MarkFalse(obj, meta.ReadyCondition, stalling.Reason, err.Error())
		MarkTrue(obj, meta.StalledCondition, stalling.Reason, err.Error())
		DeleteCondition(obj, meta.ReconcilingCondition)
		// The spec was seen and judged: kstatus reads this generation as Failed, not InProgress.
		obj.SetObservedGeneration(obj.GetGeneration())
		log.Error(err, "reconciliation stalled", "reason", stalling.Reason)
		c.Events.Event(obj, events.SeverityError, stalling.Reason, err.Error(), c.eventMetadata(obj))
		return ctrl.Result{}, nil
	case waiting != nil:
		MarkFalse(obj, meta.ReadyCondition, waiting.Reason, err.Error())
		MarkTrue(obj, meta.ReconcilingCondition, meta.ProgressingWithRetryReason, err.Error())
		DeleteCondition(obj, meta.StalledCondition)
		after := waiting.RequeueAfter
		if after == 0 {
			after = c.RequeueDependency
		}
		log.Info(fmt.Sprintf("%s, retrying in %s", err.Error(), after), "reason", waiting.Reason)
		return ctrl.Result{RequeueAfter: after}, nil
	default:
		MarkFalse(obj, meta.ReadyCondition, generic.Reason, err.Error())
		MarkTrue(obj, meta.ReconcilingCondition, meta.ProgressingWithRetryReason, err.Error())
		DeleteCondition(obj, meta.StalledCondition)
		if !generic.Quiet {
			c.Events.Event(obj, events.SeverityError, generic.Reason, err.Error(), c.eventMetadata(obj))
		}
		if generic.RequeueAfter > 0 {
			log.Error(err, "reconciliation failed", "reason", generic.Reason, "retryIn", generic.RequeueAfter.String())
			return ctrl.Result{RequeueAfter: generic.RequeueAfter}, nil
		}
		// controller-runtime logs the error and requeues with exponential backoff.
		return ctrl.Result{}, err
	}
}

// finalize runs the kind's cleanup and removes the finalizer so the API server can delete obj.
func (c *Controller[T]) finalize(ctx context.Context, obj T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return ctrl.Result{}, nil
	}
	if c.Finalize != nil {
		if err := c.Finalize(ctx, obj); err != nil {
			if _, waiting, _ := classify(err); waiting != nil {
				ctrl.LoggerFrom(ctx).Info(err.Error())
				after := waiting.RequeueAfter
				if after == 0 {
					after = c.RequeueDependency
				}
				return ctrl.Result{RequeueAfter: after}, nil
			}
			c.Events.Event(obj, events.SeverityError, "FinalizeFailed", err.Error(), c.eventMetadata(obj))
			return ctrl.Result{}, err
		}
	}
	base := obj.DeepCopyObject().(client.Object)
	controllerutil.RemoveFinalizer(obj, Finalizer)
	if err := c.Client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	c.Metrics.Forget(c.Kind, obj.GetNamespace(), obj.GetName())
	return ctrl.Result{}, nil
}

// Jitter spreads d by a random +/- percent, so objects created together do not requeue
// together forever.
func Jitter(d time.Duration, percent uint8) time.Duration {
	if d <= 0 || percent == 0 {
		return d
	}
	spread := float64(d) * float64(percent) / 100
	return d + time.Duration((rand.Float64()*2-1)*spread)
}
