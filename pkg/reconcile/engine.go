package reconcile

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"gotk.dev/pkg/lenient"
	"gotk.dev/pkg/redact"
	"gotk.dev/pkg/timeline"
)

// InvalidSpecReason is the reason of objects whose stored spec cannot be read as their type.
const InvalidSpecReason = "InvalidSpec"

// DefaultFinalizer is the finalizer Flux controllers put on the objects they reconcile.
const DefaultFinalizer = "finalizers.fluxcd.io"

// Options describe a kind's reconcile: what the engine needs to run its steps.
type Options[T Object, S any] struct {
	Shared
	// Client reads and patches the kind's objects.
	Client client.Client
	// Kind names the kind in metrics and logs.
	Kind string
	// NewObject returns an empty object of the kind.
	NewObject func() T
	// NewScope creates the state one reconcile's steps share. Nil is allowed only when S is
	// T: the steps then get the object itself.
	NewScope func(obj T) S
	// Steps run in order on a live, unsuspended object.
	Steps []Step[S]
	// Timeout bounds the steps of one reconcile (spec.timeout); nil means no bound beyond
	// the caller's context.
	Timeout func(obj T) time.Duration
	// Finalize cleans up before the finalizer is removed; nil removes it at once. A
	// Waiting error keeps the finalizer and retries after its delay.
	Finalize func(ctx context.Context, obj T) error
	// Finalizer is the finalizer the engine adds; empty means DefaultFinalizer.
	Finalizer string
	// SuccessReason is the default Ready=True reason ("Succeeded" for sources,
	// "ReconciliationSucceeded" for appliers, as upstream); empty means "Succeeded".
	SuccessReason string
	// Refresh, when set, reports that the object read from the cache may lag behind the
	// controller's own last status write: kinds whose steps act on what their status
	// records (a HelmRelease's release history) must not act on a stale copy. The engine
	// then reads the object from APIReader instead, which costs one GET.
	Refresh func(obj T) bool
	// APIReader reads objects past the cache (the manager's GetAPIReader); needed with
	// Refresh.
	APIReader client.Reader
	// EventMetadata returns the annotations of the failure events the engine records
	// (`<group>/revision` of the attempted revision, ...), so that notification-controller
	// can tell which revision failed; nil records none.
	EventMetadata func(obj T) map[string]string
	// Succeeded, when set, is called after a reconcile that ended Ready=True has been
	// written, with how long it took: kustomize-controller records its "Reconciliation
	// finished" event there, which notification-controller turns into commit statuses.
	Succeeded func(obj T, took time.Duration)
}

// Controller runs objects of one kind through the fixed reconcile skeleton:
//
//	get -> deletion (Finalize, drop finalizer) -> add finalizer -> suspend -> Steps ->
//	derive Ready/Reconciling/Stalled, observedGeneration, lastHandledReconcileAt -> one status
//	patch (none when nothing changed) -> metrics -> requeue
//
// Steps set only their own conditions; the engine clears a step's owned conditions when it
// succeeds and derives Ready, Reconciling and Stalled from the outcome, in one place.
type Controller[T Object, S any] struct {
	o Options[T, S]
}

// New validates o and returns the kind's controller, ready to be passed to
// controller-runtime's builder (Complete/Build).
func New[T Object, S any](o Options[T, S]) (*Controller[T, S], error) {
	switch {
	case o.Client == nil:
		return nil, errors.New("reconcile: Options.Client is required")
	case o.Kind == "":
		return nil, errors.New("reconcile: Options.Kind is required")
	case o.NewObject == nil:
		return nil, fmt.Errorf("reconcile: %s: Options.NewObject is required", o.Kind)
	case len(o.Steps) == 0:
		return nil, fmt.Errorf("reconcile: %s: Options.Steps is empty", o.Kind)
	case o.Refresh != nil && o.APIReader == nil:
		return nil, fmt.Errorf("reconcile: %s: Options.Refresh needs Options.APIReader", o.Kind)
	}
	for i, s := range o.Steps {
		if s.Run == nil || s.Name == "" {
			return nil, fmt.Errorf("reconcile: %s: step %d needs a Name and a Run function", o.Kind, i)
		}
	}
	if o.NewScope == nil {
		if _, ok := any(o.NewObject()).(S); !ok {
			return nil, fmt.Errorf("reconcile: %s: Options.NewScope is required when the scope type is not the object type", o.Kind)
		}
	}
	if o.Finalizer == "" {
		o.Finalizer = DefaultFinalizer
	}
	if o.SuccessReason == "" {
		o.SuccessReason = meta.SucceededReason
	}
	if o.Events == nil {
		o.Events = discardEvents{}
	}
	if o.Metrics == nil {
		o.Metrics = discardMetrics{}
	}
	return &Controller[T, S]{o: o}, nil
}

// Reconcile implements controller-runtime's reconcile.Reconciler.
func (c *Controller[T, S]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	start := time.Now()
	span := c.startSpan(req, start)
	obj := c.o.NewObject()
	if err := c.o.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			c.o.Metrics.Forget(c.o.Kind, req.Namespace, req.Name)
			c.endSpan(span, 0, timeline.Gone)
			return ctrl.Result{}, nil
		}
		c.endSpan(span, 0, timeline.Failed)
		return ctrl.Result{}, err
	}
	if c.o.Refresh != nil && c.o.Refresh(obj) {
		fresh := c.o.NewObject()
		if err := c.o.APIReader.Get(ctx, req.NamespacedName, fresh); err != nil {
			if apierrors.IsNotFound(err) {
				return ctrl.Result{}, nil
			}
			return ctrl.Result{}, err
		}
		obj = fresh
	}
	defer c.o.Metrics.RecordDuration(c.o.Kind, req.Namespace, req.Name, start)

	if !obj.GetDeletionTimestamp().IsZero() {
		defer c.endSpan(span, obj.GetGeneration(), timeline.Finalized)
		return c.finalize(ctx, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, c.o.Finalizer) {
		base := obj.DeepCopyObject().(client.Object)
		controllerutil.AddFinalizer(obj, c.o.Finalizer)
		// The finalizers list is replaced as a whole: lock on the resourceVersion so a
		// finalizer added by someone else meanwhile is not dropped.
		if err := c.o.Client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			c.endSpan(span, obj.GetGeneration(), timeline.Failed)
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	c.o.Metrics.RecordSuspend(c.o.Kind, req.Namespace, req.Name, obj.IsSuspended())
	if obj.IsSuspended() {
		ctrl.LoggerFrom(ctx).V(1).Info("reconciliation is suspended for this object")
		c.endSpan(span, obj.GetGeneration(), timeline.Suspended)
		return ctrl.Result{}, nil
	}
	defer c.endSpan(span, obj.GetGeneration(), timeline.Failed)

	base := obj.DeepCopyObject().(T)
	var res Result
	var err error
	if problems := lenient.Problems(obj.GetAnnotations()); problems != "" {
		// The object was read with repaired fields (see package lenient): its spec as
		// stored cannot be acted on.
		err = Stall(InvalidSpecReason, fmt.Errorf("invalid spec: %s", problems))
	} else {
		res, err = c.runSteps(ctx, obj, span)
	}
	if err == nil && res.Deferred {
		if same, derr := onlyConditionsChanged(base, obj); derr == nil && same {
			if span != nil {
				span.Outcome, span.Reason = timeline.Deferred, orDefault(res.Reason, "")
				span.RequeueAfterSeconds = res.RequeueAfter.Seconds()
			}
			return ctrl.Result{RequeueAfter: res.RequeueAfter}, nil
		}
	}
	result, retErr := c.summarize(ctx, obj, res, err)
	setOutcome(span, res, err, result)
	patchStart := time.Now()
	sent, perr := patchStatus(ctx, c.o.Client, base, obj)
	if span != nil && sent {
		span.StatusPatchSeconds = time.Since(patchStart).Seconds()
	}
	if perr != nil {
		if apierrors.IsNotFound(perr) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("patch status: %w", perr)
	}
	if c.o.Succeeded != nil && err == nil && !res.Progressing {
		c.o.Succeeded(obj, time.Since(start))
	}
	return result, retErr
}

// runSteps runs the steps in order until one fails or ends the reconcile with a Result.
func (c *Controller[T, S]) runSteps(ctx context.Context, obj T, span *timeline.Span) (Result, error) {
	if c.o.Timeout != nil {
		if d := c.o.Timeout(obj); d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
	}
	var scope S
	if c.o.NewScope != nil {
		scope = c.o.NewScope(obj)
	} else {
		scope = any(obj).(S)
	}
	if closer, ok := any(scope).(interface{ Close() }); ok {
		defer closer.Close()
	}
	for _, step := range c.o.Steps {
		started := time.Now()
		res, err := step.Run(ctx, scope)
		took := time.Since(started)
		c.o.Metrics.RecordStep(c.o.Kind, step.Name, took)
		recordStep(span, step.Name, took)
		if err != nil {
			if step.FailureCondition != "" {
				MarkTrue(obj, step.FailureCondition, ReasonOf(err), err.Error())
			}
			return Result{}, err
		}
		for _, typ := range step.Owns {
			DeleteCondition(obj, typ)
		}
		if step.FailureCondition != "" {
			DeleteCondition(obj, step.FailureCondition)
		}
		if !res.IsZero() {
			return res, nil
		}
	}
	return Result{}, nil
}

// patchStatus sends the status changes of obj since base as a JSON merge patch, and nothing
// when nothing changed: a no-op reconcile costs no write.
func patchStatus(ctx context.Context, c client.Client, base, obj client.Object) (sent bool, err error) {
	patch := client.MergeFrom(base)
	data, err := patch.Data(obj)
	if err != nil {
		return false, err
	}
	if string(data) == "{}" {
		return false, nil
	}
	return true, c.Status().Patch(ctx, obj, patch)
}

// onlyConditionsChanged reports whether obj's status differs from base's in its conditions
// at most (see Result.Deferred).
func onlyConditionsChanged(base, obj Object) (bool, error) {
	probe := obj.DeepCopyObject().(Object)
	probe.SetConditions(base.GetConditions())
	data, err := client.MergeFrom(base).Data(probe)
	if err != nil {
		return false, err
	}
	return string(data) == "{}", nil
}

// finalize runs the kind's cleanup and removes the finalizer so the API server can delete obj.
func (c *Controller[T, S]) finalize(ctx context.Context, obj T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, c.o.Finalizer) {
		return ctrl.Result{}, nil
	}
	if c.o.Finalize != nil {
		if err := c.o.Finalize(ctx, obj); err != nil {
			if _, waiting, _ := classify(err); waiting != nil {
				ctrl.LoggerFrom(ctx).Info(err.Error())
				return ctrl.Result{RequeueAfter: c.waitDelay(waiting)}, nil
			}
			err = redact.Error(err)
			c.o.Events.Event(obj, eventv1.EventSeverityError, "FinalizeFailed", err.Error(), c.eventMetadata(obj))
			return ctrl.Result{}, err
		}
	}
	base := obj.DeepCopyObject().(client.Object)
	controllerutil.RemoveFinalizer(obj, c.o.Finalizer)
	if err := c.o.Client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	c.o.Metrics.Forget(c.o.Kind, obj.GetNamespace(), obj.GetName())
	return ctrl.Result{}, nil
}

// eventMetadata returns the annotations of a failure event about obj.
func (c *Controller[T, S]) eventMetadata(obj T) map[string]string {
	if c.o.EventMetadata == nil {
		return nil
	}
	return c.o.EventMetadata(obj)
}

// waitDelay is a Waiting error's requeue delay.
func (c *Controller[T, S]) waitDelay(w *Waiting) time.Duration {
	if w.RequeueAfter > 0 {
		return w.RequeueAfter
	}
	return c.o.RequeueDependency
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
