// Package reconcile is the reconcile engine every controller runs its objects through: a fixed
// skeleton (get, finalizer, suspend, an ordered list of steps, one status patch), typed errors
// mapped once to conditions and requeue results, and the Ready/Reconciling/Stalled derivation.
//
// The vocabulary of outcomes:
//
//   - Result (no error): Ready=True with the result's reason and message, requeued at the
//     object's interval; or, with Progressing, Ready=Unknown and Reconciling=True while
//     something settles.
//   - Stall: the user must change the spec. Ready=False, Stalled=True, no retry until the
//     object changes.
//   - Wait: a precondition is not met yet (a dependency or source not ready). Ready=False,
//     Reconciling=True, retried after --requeue-dependency or the given delay, no event.
//   - Fail / FailAfter: a transient failure. Ready=False, Reconciling=True, a warning event,
//     retried with backoff or after the given delay.
//
// Any other error is a Fail with reason ReconciliationFailed.
package reconcile

import (
	"errors"
	"time"
)

// Stalling is a failure the controller cannot fix by retrying: the user must change the spec
// (an invalid field, a forbidden cross-namespace reference). Stalled=True, no requeue until the
// object changes.
type Stalling struct {
	Reason string
	Err    error
	// ReadyReason and ReadyMessage, when set, describe Ready=False instead of Reason and
	// Err: kinds whose Ready summarizes other conditions (a HelmRelease's Released,
	// TestSuccess, Remediated) keep that summary while Stalled says why nothing is retried.
	ReadyReason, ReadyMessage string
}

func (e *Stalling) Error() string { return e.Err.Error() }
func (e *Stalling) Unwrap() error { return e.Err }

// Waiting means a precondition is not met yet (a dependency or source not ready): Ready=False
// with Reason, requeued after RequeueAfter (default --requeue-dependency), no event.
type Waiting struct {
	Reason       string
	Err          error
	RequeueAfter time.Duration
}

func (e *Waiting) Error() string { return e.Err.Error() }
func (e *Waiting) Unwrap() error { return e.Err }

// Generic is a transient failure (network, API conflict, a failed apply): Ready=False with
// Reason, retried after RequeueAfter when set (a Kustomization's retryInterval), else with the
// controller's exponential backoff (--min-retry-delay .. --max-retry-delay).
type Generic struct {
	Reason       string
	Err          error
	RequeueAfter time.Duration
	// Quiet suppresses the warning event (the step already emitted a more specific one).
	Quiet bool
}

func (e *Generic) Error() string { return e.Err.Error() }
func (e *Generic) Unwrap() error { return e.Err }

// Stall returns a Stalling error.
func Stall(reason string, err error) error { return &Stalling{Reason: reason, Err: err} }

// StallWithReady returns a Stalling error whose Ready=False condition keeps readyReason and
// readyMessage (see Stalling.ReadyReason).
func StallWithReady(reason string, err error, readyReason, readyMessage string) error {
	return &Stalling{Reason: reason, Err: err, ReadyReason: readyReason, ReadyMessage: readyMessage}
}

// Wait returns a Waiting error; after 0 means the controller's --requeue-dependency.
func Wait(reason string, err error, after time.Duration) error {
	return &Waiting{Reason: reason, Err: err, RequeueAfter: after}
}

// Fail returns a Generic error retried with backoff.
func Fail(reason string, err error) error { return &Generic{Reason: reason, Err: err} }

// FailAfter returns a Generic error retried after a fixed delay.
func FailAfter(reason string, err error, after time.Duration) error {
	return &Generic{Reason: reason, Err: err, RequeueAfter: after}
}

// defaultFailureReason is the reason of an untyped error.
const defaultFailureReason = "ReconciliationFailed"

// classify turns any error into one of the three kinds; an untyped error is Generic.
func classify(err error) (stalling *Stalling, waiting *Waiting, generic *Generic) {
	if errors.As(err, &stalling) {
		return stalling, nil, nil
	}
	if errors.As(err, &waiting) {
		return nil, waiting, nil
	}
	if errors.As(err, &generic) {
		return nil, nil, generic
	}
	return nil, nil, &Generic{Reason: defaultFailureReason, Err: err}
}

// ReasonOf returns the condition reason a step's error will be reported with.
func ReasonOf(err error) string {
	stalling, waiting, generic := classify(err)
	switch {
	case stalling != nil:
		return stalling.Reason
	case waiting != nil:
		return waiting.Reason
	}
	return generic.Reason
}
