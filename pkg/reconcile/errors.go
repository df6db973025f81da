// Package reconcile is the reconcile engine every controller runs its objects through: a fixed
// skeleton (get, finalizer, suspend, steps, one status patch), typed errors mapped once to
// conditions and requeue results, and the Ready/Reconciling/Stalled derivation.
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
}

func (e *Stalling) Error() string { return e.Err.Error() }
func (e *Stalling) Unwrap() error { return e.Err }

// Waiting means a precondition is not met yet (a dependency or source not ready). Not an
// error: Ready=False with Reason, requeued after RequeueAfter (default --requeue-dependency).
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

// Progressing is not a failure: the work is applied and the object waits for something to
// settle (health checks). Ready=Unknown, Reconciling=True with Message, no event; requeued after
// RequeueAfter, or earlier by a watch.
type Progressing struct {
	Reason       string
	Message      string
	RequeueAfter time.Duration
}

func (e *Progressing) Error() string { return e.Message }

// InProgress returns a Progressing outcome.
func InProgress(reason, message string, after time.Duration) error {
	return &Progressing{Reason: reason, Message: message, RequeueAfter: after}
}

// Stall returns a Stalling error.
func Stall(reason string, err error) error { return &Stalling{Reason: reason, Err: err} }

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
	return nil, nil, &Generic{Reason: "ReconciliationFailed", Err: err}
}
