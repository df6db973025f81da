package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/action"
	"gotk.dev/helm-controller/internal/drift"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/helm-controller/internal/release"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
)

const (
	missingRollbackTargetReason = "MissingRollbackTarget"
	reconcileErrorReason        = "ReconcileError"
	stateErrorReason            = "StateError"
	// maxReleaseRounds bounds the release rounds of one reconcile: a release, the
	// verification of its objects, then what follows (tests).
	maxReleaseRounds = 3
)

// reconcileRelease brings the Helm release to the desired chart and values: it uninstalls
// a release made for an earlier name, namespace or chart, finishes the health
// verification of a pending release, and runs the release loop (internal/release), which
// installs, upgrades, tests, remediates, unlocks and corrects drift as the state asks.
// After an install or upgrade that waits, the released objects' health is verified before
// anything else happens (tests run on a ready release, as Helm's wait orders them).
func (r *HelmReleaseReconciler) reconcileRelease(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	defer r.written.remember(obj)
	if err := action.ValidateReleaseName(obj); err != nil {
		return reconcile.Result{}, reconcile.Stall(v2.InitFailedReason, err)
	}
	if err := r.uninstallPreviousTarget(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	obj.Status.StorageNamespace = obj.GetStorageNamespace()
	reset := meta.HandleAnnotationRequest(obj, v2.ResetRequestAnnotation, &obj.Status.LastHandledResetAt)
	changed := release.PrepareAttempt(obj, s.chart.Metadata.Version, release.ValuesDigest(s.values), reset)
	obj.Status.LastAttemptedRevisionDigest = s.ociDigest
	force := meta.ShouldHandleForceRequest(obj)
	factory := r.helm.get(ctx, s.target, obj.GetReleaseNamespace(), obj.GetStorageNamespace(), obj.UsePersistentClient())

	if p := release.PendingVerification(obj); p != nil {
		if changed != "" || force {
			// Something newer is asked for: the next release supersedes the pending one.
			release.Abandon(obj)
			r.health.Done(obj)
		} else if res, err, settled := r.verify(ctx, s, factory, p, nil); !settled {
			return res, err
		}
	}
	runner := &release.Runner{
		Factory: factory,
		Options: action.Options{EnableDNS: r.opts.enabled(AllowDNSLookups)},
		Drift:   drift.NewDetector(s.target.Client, kube.FieldManager()),
	}
	var succeeded []release.Event
	for round := 1; ; round++ {
		res, err := runner.Reconcile(ctx, release.Request{
			Object: obj, Chart: s.chart, Values: s.values, OCIDigest: s.ociDigest,
			ForceRequested: force, VerifyHealth: true,
		})
		force = force && !res.ForceHandled
		succeeded = append(succeeded, r.record(obj, res.Events)...)
		if err == nil && res.Unverified && round < maxReleaseRounds {
			p := release.PendingVerification(obj)
			vres, verr, settled := r.verify(ctx, s, factory, p, res.Current)
			if !settled {
				return vres, verr
			}
			continue
		}
		if len(res.Actions) > 0 || obj.Status.Inventory == nil {
			r.recordInventory(ctx, s, res)
		}
		return r.outcome(ctx, obj, res, err, succeeded)
	}
}

// uninstallPreviousTarget uninstalls the release status.history describes when the
// HelmRelease now asks for another release name, target namespace, storage namespace or
// (with the Reinstall chartNameChangeStrategy) chart: the new release starts afresh.
func (r *HelmReleaseReconciler) uninstallPreviousTarget(ctx context.Context, s *scope) error {
	obj := s.obj
	reason := release.TargetChanged(obj, s.chart.Name())
	if reason == "" || (strings.HasPrefix(reason, "chart name changed") && !r.opts.enabled(UninstallOnChartNameChange)) {
		return nil
	}
	cur := obj.Status.History.Latest()
	ctrl.LoggerFrom(ctx).Info(fmt.Sprintf("release target configuration changed (%s): uninstalling release %s", reason, cur.FullReleaseName()))
	old := r.helm.get(ctx, s.target, cur.Namespace, obj.Status.StorageNamespace, obj.UsePersistentClient())
	if err := release.UninstallPrevious(ctx, old, obj, action.Options{}); err != nil {
		return reconcile.Fail(v2.UninstallFailedReason, err)
	}
	r.health.Done(obj)
	obj.Status.Failures, obj.Status.InstallFailures, obj.Status.UpgradeFailures = 0, 0, 0
	r.events.Event(obj, events.SeverityInfo, v2.UninstallSucceededReason,
		fmt.Sprintf("Helm uninstall succeeded for release %s with chart %s: %s", cur.FullReleaseName(), cur.VersionedChartName(), reason),
		eventMetadataOf(cur.ChartVersion, cur.ConfigDigest, cur.AppVersion, cur.OCIDigest))
	return nil
}

// record records the events of the release loop and returns the success ones.
func (r *HelmReleaseReconciler) record(obj *v2.HelmRelease, evs []release.Event) []release.Event {
	var ok []release.Event
	for _, ev := range evs {
		severity := events.SeverityInfo
		if ev.Type == corev1.EventTypeWarning {
			severity = events.SeverityError
		}
		r.events.Event(obj, severity, ev.Reason, ev.Message, ev.Metadata)
		if ev.Success {
			ok = append(ok, ev)
		}
	}
	return ok
}

// outcome turns the end of the release loop into the reconcile's result. Ready summarizes
// Remediated, TestSuccess and Released as upstream does; the engine records failure events
// only where the loop recorded none.
func (r *HelmReleaseReconciler) outcome(ctx context.Context, obj *v2.HelmRelease, res release.Result, err error, succeeded []release.Event) (reconcile.Result, error) {
	sum := summarize(obj)
	warned := false
	for _, ev := range res.Events {
		warned = warned || ev.Type == corev1.EventTypeWarning
	}
	switch {
	case errors.Is(err, release.ErrRetriesExhausted):
		return reconcile.Result{}, reconcile.StallWithReady(v2.RetriesExceededReason,
			fmt.Errorf("Failed to %s after %d attempt(s)", obj.Status.LastAttemptedReleaseAction, failureCount(obj)), sum.reason, sum.message)
	case errors.Is(err, release.ErrMissingRollbackTarget):
		return reconcile.Result{}, reconcile.StallWithReady(missingRollbackTargetReason,
			fmt.Errorf("Failed to perform remediation: %w", err), sum.reason, sum.message)
	case errors.Is(err, release.ErrStateUnknown):
		return reconcile.Result{}, reconcile.Fail(stateErrorReason, err)
	case err != nil:
		if apimeta.IsNoMatchError(err) || strings.Contains(err.Error(), "no matches for kind") {
			// A kind installed by someone else since discovery ran: look again next time.
			r.helm.invalidate()
		}
		reason, msg := reconcileErrorReason, err.Error()
		if sum.status == metav1.ConditionFalse {
			reason, msg = sum.reason, sum.message
		}
		return reconcile.Result{}, &reconcile.Generic{Reason: reason, Err: errors.New(msg), RequeueAfter: res.RetryAfter, Quiet: warned}
	case res.Requeue && sum.status == metav1.ConditionTrue:
		return reconcile.InProgress(meta.ProgressingReason, sum.message, 0), nil
	case res.Requeue:
		// A remediation ran: the release is tried again at once (with backoff).
		return reconcile.Result{}, &reconcile.Generic{Reason: sum.reason, Err: errors.New(sum.message), Quiet: true}
	case sum.status != metav1.ConditionTrue:
		// Nothing is left to do, but the release is not what was asked for (failed tests
		// without remediation): look again at the interval.
		return reconcile.Result{}, &reconcile.Generic{Reason: sum.reason, Err: errors.New(sum.message), RequeueAfter: obj.GetRequeueAfter(), Quiet: true}
	}
	if len(succeeded) > 0 {
		// One event for Git commit status providers, which chat providers skip, per
		// reconcile that made a release Ready.
		last := succeeded[len(succeeded)-1]
		md := map[string]string{release.MetaCommitStatusKey: "update"}
		for k, v := range last.Metadata {
			md[k] = v
		}
		r.events.Event(obj, events.SeverityInfo, sum.reason, sum.message, md)
	}
	return reconcile.Result{Reason: sum.reason, Message: sum.message}, nil
}

// failureCount is the failure count of the last attempted release action.
func failureCount(obj *v2.HelmRelease) int64 {
	if obj.Status.LastAttemptedReleaseAction == v2.ReleaseActionUpgrade {
		return obj.Status.UpgradeFailures
	}
	return obj.Status.InstallFailures
}

// summary is the Ready condition composed from the release conditions.
type summary struct {
	status          metav1.ConditionStatus
	reason, message string
}

// summarize composes Ready as upstream does: of Remediated, TestSuccess (when tests are
// enabled and their failures not ignored) and Released, the one of the newest generation,
// in that order of priority; a Remediated release is never Ready. TestSuccess is removed
// once tests are disabled.
func summarize(obj *v2.HelmRelease) summary {
	test := obj.GetTest()
	if !test.Enable {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.TestSuccessCondition)
	}
	order := []string{v2.RemediatedCondition, v2.ReleasedCondition}
	if test.Enable && !test.IgnoreFailures {
		order = []string{v2.RemediatedCondition, v2.TestSuccessCondition, v2.ReleasedCondition}
	}
	var found []*metav1.Condition
	var newest int64 = -1
	for _, t := range order {
		if c := apimeta.FindStatusCondition(obj.Status.Conditions, t); c != nil {
			found = append(found, c)
			newest = max(newest, c.ObservedGeneration)
		}
	}
	for _, c := range found {
		if c.ObservedGeneration != newest {
			continue
		}
		st := c.Status
		if c.Type == v2.RemediatedCondition {
			st = metav1.ConditionFalse
		}
		return summary{status: st, reason: c.Reason, message: c.Message}
	}
	cur := obj.Status.History.Latest()
	return summary{status: metav1.ConditionTrue, reason: v2.UpgradeSucceededReason,
		message: fmt.Sprintf("Helm release %s with chart %s is in sync", cur.FullReleaseName(), cur.VersionedChartName())}
}
