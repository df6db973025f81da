package release

import (
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
)

// Action is what Decide asks for.
type Action string

const (
	// None: nothing to do.
	None Action = ""
	// Install the chart.
	Install Action = "install"
	// Upgrade the release to the chart and values.
	Upgrade Action = "upgrade"
	// Test runs the chart's tests against the current release.
	Test Action = "test"
	// Unlock marks an interrupted (pending) release as failed.
	Unlock Action = "unlock"
	// RollbackRemediation rolls back to Decision.RollbackTo.
	RollbackRemediation Action = "rollback"
	// UninstallRemediation uninstalls the failed release (it is installed again later).
	UninstallRemediation Action = "uninstall"
	// CorrectDrift applies the release manifest over the drifted objects.
	CorrectDrift Action = "correct-drift"
	// WarnDrift only reports drift (driftDetection.mode warn).
	WarnDrift Action = "warn-drift"
)

// Kind groups actions the way the atomic-release loop counts them: at most one action of a
// kind per reconciliation, and a remediation ends it.
type Kind string

const (
	KindRelease     Kind = "release"
	KindTest        Kind = "test"
	KindRemediation Kind = "remediation"
	KindUnlock      Kind = "unlock"
	KindDrift       Kind = "drift"
)

// Kind returns the kind of a.
func (a Action) Kind() Kind {
	switch a {
	case Install, Upgrade:
		return KindRelease
	case Test:
		return KindTest
	case RollbackRemediation, UninstallRemediation:
		return KindRemediation
	case Unlock:
		return KindUnlock
	default:
		return KindDrift
	}
}

// Errors that stop the release until something changes.
var (
	// ErrRetriesExhausted: the install or upgrade failed as often as remediation retries
	// allow. Nothing happens until the chart, values or spec change, or a force or reset is
	// requested (Stalled, reason RetriesExceeded).
	ErrRetriesExhausted = errors.New("exceeded maximum retries")
	// ErrMissingRollbackTarget: the release to roll back to is gone from the storage.
	ErrMissingRollbackTarget = errors.New("missing target release for rollback")
	// ErrStateUnknown: the release storage could not be read (a transient failure, or an
	// identity that may not read it); nothing was done.
	ErrStateUnknown = errors.New("could not determine release state")
)

// Input is the input of Decide.
type Input struct {
	// Object is the HelmRelease: spec, status.history, failure counters and
	// lastAttemptedReleaseAction.
	Object *v2.HelmRelease
	// State is the result of DetermineState (and WithDrift).
	State State
	// Records are the release records of the storage (to verify a rollback target).
	Records []*release.Release
	// ForceRequested tells that reconcile.fluxcd.io/forceAt asks for a release not yet
	// handled.
	ForceRequested bool
}

// Decision is the output of Decide.
type Decision struct {
	Action Action
	// Reason explains the decision.
	Reason string
	// RollbackTo is the history entry to roll back to (RollbackRemediation).
	RollbackTo *v2.Snapshot
	// ClearHistory: status.history no longer describes the storage; clear it before acting.
	ClearHistory bool
	// TruncateHistory: drop history older than the previous successful release, with
	// IgnoreTestFailures deciding what counts as successful.
	TruncateHistory    bool
	IgnoreTestFailures bool
	// ForceHandled: the action answers the force request; record it as handled once the
	// action ran.
	ForceHandled bool
	// Err is set when no action may run: ErrRetriesExhausted, ErrMissingRollbackTarget
	// (both stall the HelmRelease) or the error of an Unknown state.
	Err error
}

// Decide returns the next action for a HelmRelease in the given state, following upstream
// helm-controller's state machine:
//
//	InSync     -> nothing (an upgrade when forced); history truncated
//	Locked     -> unlock (the release becomes Failed and is remediated by policy)
//	Absent     -> install, unless install retries are exhausted (force overrides)
//	Unmanaged  -> upgrade, with a cleared history
//	OutOfSync  -> upgrade, unless upgrade retries are exhausted (force overrides)
//	Drifted    -> correct drift (mode enabled) or warn (mode warn); forced: upgrade
//	Untested   -> test
//	Failed     -> no active remediation, failure counters reset or force: upgrade;
//	              RetryOnFailure strategy: upgrade (retried every retryInterval);
//	              retries exhausted without remediateLastFailure: stop;
//	              otherwise remediate: roll back to the previous successful release
//	              (upgrade when it changed in storage, stop when it is gone) or uninstall.
func Decide(req Input) Decision {
	obj := req.Object
	st := req.State
	force := req.ForceRequested
	ignoreTests := obj.GetTest().IgnoreFailures
	if r := obj.GetActiveRemediation(); r != nil {
		ignoreTests = r.MustIgnoreTestFailures(ignoreTests)
	}

	switch st.Status {
	case InSync:
		d := Decision{TruncateHistory: true, IgnoreTestFailures: ignoreTests}
		if force {
			d.Action, d.ForceHandled, d.Reason = Upgrade, true, "forced upgrade of in-sync release"
		}
		return d
	case Locked:
		return Decision{Action: Unlock, Reason: st.Reason}
	case Absent:
		if !retryOnFailure(obj, v2.ReleaseActionInstall) && obj.GetInstall().GetRemediation().RetriesExhausted(obj.Status.InstallFailures) {
			if force {
				return Decision{Action: Install, ForceHandled: true, Reason: "forced install while out of retries"}
			}
			return Decision{Err: fmt.Errorf("%w: cannot install release", ErrRetriesExhausted)}
		}
		return Decision{Action: Install, ForceHandled: force, Reason: st.Reason}
	case Unmanaged:
		return Decision{Action: Upgrade, ClearHistory: true, ForceHandled: force, Reason: st.Reason}
	case OutOfSync:
		if !retryOnFailure(obj, v2.ReleaseActionUpgrade) && obj.GetUpgrade().GetRemediation().RetriesExhausted(obj.Status.UpgradeFailures) {
			if force {
				return Decision{Action: Upgrade, ForceHandled: true, Reason: "forced upgrade while out of retries"}
			}
			return Decision{Err: fmt.Errorf("%w: cannot upgrade release", ErrRetriesExhausted)}
		}
		return Decision{Action: Upgrade, ForceHandled: force, Reason: st.Reason}
	case Drifted:
		if force {
			return Decision{Action: Upgrade, ForceHandled: true, Reason: "forced upgrade of drifted release"}
		}
		if obj.GetDriftDetection().GetMode() == v2.DriftDetectionEnabled {
			return Decision{Action: CorrectDrift, Reason: st.Reason}
		}
		return Decision{Action: WarnDrift, Reason: st.Reason}
	case Untested:
		return Decision{Action: Test, Reason: st.Reason}
	case Failed:
		return decideFailed(req, ignoreTests)
	case Unknown:
		return Decision{Err: st.Err}
	default:
		return Decision{Err: fmt.Errorf("unknown release state %q", st.Status)}
	}
}

func decideFailed(req Input, ignoreTests bool) Decision {
	obj := req.Object
	remediation := obj.GetActiveRemediation()
	if remediation == nil {
		return Decision{Action: Upgrade, ForceHandled: req.ForceRequested, Reason: "failed release without remediation settings"}
	}
	if failureCount(obj) <= 0 {
		return Decision{Action: Upgrade, ForceHandled: req.ForceRequested, Reason: "desired state changed since the last failure"}
	}
	if req.ForceRequested {
		return Decision{Action: Upgrade, ForceHandled: true, Reason: "forced upgrade of failed release"}
	}
	if retryOnFailure(obj, obj.Status.LastAttemptedReleaseAction) {
		return Decision{Action: Upgrade, Reason: "retrying failed release (RetryOnFailure)"}
	}
	if remediation.RetriesExhausted(failureCount(obj)) && !remediation.MustRemediateLastFailure() {
		return Decision{Err: fmt.Errorf("%w: cannot remediate failed release", ErrRetriesExhausted)}
	}
	d := Decision{TruncateHistory: true, IgnoreTestFailures: ignoreTests}
	switch remediation.GetStrategy() {
	case v2.RollbackRemediationStrategy:
		prev := Previous(obj.Status.History, ignoreTests)
		if prev == nil {
			d.Err = fmt.Errorf("%w: no previous successful release in history", ErrMissingRollbackTarget)
			return d
		}
		target := find(req.Records, prev.Version)
		switch {
		case target == nil:
			d.Err = fmt.Errorf("%w: release %s is gone from storage", ErrMissingRollbackTarget, prev.FullReleaseName())
		case target.Name != prev.Name || target.Namespace != prev.Namespace || ReleaseDigest(target) != prev.Digest:
			// The rollback target changed outside the controller: rolling back to it would
			// restore an unknown state, so the upgrade is attempted again instead.
			d.Action, d.Reason = Upgrade, fmt.Sprintf("rollback target %s changed in storage", prev.FullReleaseName())
		default:
			d.Action, d.RollbackTo, d.Reason = RollbackRemediation, prev, fmt.Sprintf("rolling back to %s", prev.FullReleaseName())
		}
		return d
	case v2.UninstallRemediationStrategy:
		d.Action, d.Reason = UninstallRemediation, "uninstalling failed release"
		return d
	default:
		d.Err = fmt.Errorf("unknown remediation strategy %q", remediation.GetStrategy())
		return d
	}
}

// failureCount returns the failures of the last attempted release action.
func failureCount(obj *v2.HelmRelease) int64 {
	switch obj.Status.LastAttemptedReleaseAction {
	case v2.ReleaseActionInstall:
		return obj.Status.InstallFailures
	case v2.ReleaseActionUpgrade:
		return obj.Status.UpgradeFailures
	}
	return 0
}

// retryOnFailure tells whether the strategy of action is RetryOnFailure: failures are
// retried (as upgrades) every retryInterval, forever, without remediation.
func retryOnFailure(obj *v2.HelmRelease, action v2.ReleaseAction) bool {
	switch action {
	case v2.ReleaseActionInstall:
		return obj.GetInstall().GetStrategyName() == v2.ActionStrategyRetryOnFailure
	case v2.ReleaseActionUpgrade:
		return obj.GetUpgrade().GetStrategyName() == v2.ActionStrategyRetryOnFailure
	}
	return false
}

// RetryInterval returns how long to wait before retrying after a failed action, when the
// strategy of the last attempted release action is RetryOnFailure (0 otherwise: the caller
// backs off as for any error).
func RetryInterval(obj *v2.HelmRelease) time.Duration {
	switch obj.Status.LastAttemptedReleaseAction {
	case v2.ReleaseActionInstall:
		if retryOnFailure(obj, v2.ReleaseActionInstall) {
			return obj.GetInstall().GetRetryInterval()
		}
	case v2.ReleaseActionUpgrade:
		if retryOnFailure(obj, v2.ReleaseActionUpgrade) {
			return obj.GetUpgrade().GetRetryInterval()
		}
	}
	return 0
}
