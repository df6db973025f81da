package reconcile

import (
	"context"
	"time"
)

// Result is how a step ends a reconcile that did not fail. A step returns the zero Result to
// let the next step run; any other Result ends the reconcile with it.
type Result struct {
	// Reason is the Ready=True reason; empty means the controller's SuccessReason. Kinds
	// with several kinds of success (helm-controller's InstallSucceeded, UpgradeSucceeded,
	// ...) set it per result.
	Reason string
	// Message is the Ready=True message (or the Reconciling message when Progressing).
	Message string
	// RequeueAfter overrides the object's interval for the next run (0 keeps the interval).
	RequeueAfter time.Duration
	// Progressing says the work is done and waits for something to settle (health
	// checks): Ready=Unknown and Reconciling=True with Reason and Message, no event; the
	// object is requeued after RequeueAfter, or earlier by a watch.
	Progressing bool
	// Deferred (with Progressing) says the object settles in moments and something will
	// requeue it (a watch that woke nobody yet): when the steps changed nothing in the status
	// but conditions, the status is not patched and nothing is requeued but RequeueAfter, so
	// the next reconcile writes the outcome once (Ready) instead of Progressing and then
	// Ready. When more changed, it ends as Progressing does.
	Deferred bool
}

// IsZero reports whether r lets the next step run.
func (r Result) IsZero() bool { return r == Result{} }

// Done ends a reconcile with Ready=True and message.
func Done(message string) Result { return Result{Message: message} }

// InProgress ends a reconcile with Reconciling=True: the work is applied and the object
// waits for something to settle; it is requeued after after, or earlier by a watch.
func InProgress(reason, message string, after time.Duration) Result {
	return Result{Reason: reason, Message: message, RequeueAfter: after, Progressing: true}
}

// Defer ends a reconcile like InProgress, but without a status patch when only conditions
// would change (see Result.Deferred); the caller makes sure the object is requeued.
func Defer(reason, message string, after time.Duration) Result {
	r := InProgress(reason, message, after)
	r.Deferred = true
	return r
}

// Step is one stage of a reconcile, run in order by the Controller with the reconcile's
// scope S (the state steps hand on to each other).
type Step[S any] struct {
	// Name names the step in logs and in the gotk_reconcile_step_duration_seconds metric.
	Name string
	// Owns lists the abnormal conditions the step reports its failures with (FetchFailed,
	// BuildFailed, ...). The engine removes them when the step succeeds, so none outlives
	// the failure it reported, whichever path through the step succeeded.
	Owns []string
	// FailureCondition, when set, is set True by the engine with the failure's reason and
	// message when the step fails, and removed when it succeeds. It need not be in Owns.
	FailureCondition string
	// Run does the step's work: the zero Result and no error let the next step run.
	Run func(ctx context.Context, s S) (Result, error)
}
