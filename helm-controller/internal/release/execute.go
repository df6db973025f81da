package release

import (
	"context"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/action"
)

// run executes one decision and records its outcome on the HelmRelease.
func (r *Runner) run(ctx context.Context, req Request, d Decision, res *Result) error {
	obj := req.Object
	// Helm's install and upgrade write from their own goroutine, which outlives the action
	// when ctx ends first: the records it writes are guarded.
	var mu sync.Mutex
	var written []*release.Release
	cfg, err := r.Factory.Build(func(rls *release.Release) {
		if rls.Name == obj.GetReleaseName() {
			mu.Lock()
			written = append(written, rls)
			mu.Unlock()
		}
	})
	if err != nil {
		return err
	}
	// observe records what the action wrote into status.history; the newest record the
	// action made is tagged with the action and, for releases, the OCI digest.
	observe := func(tag string) *v2.Snapshot {
		mu.Lock()
		written := slices.Clone(written)
		mu.Unlock()
		var newest *v2.Snapshot
		seen := map[int]bool{}
		for i := len(written) - 1; i >= 0; i-- {
			rls := written[i]
			if seen[rls.Version] {
				continue // an earlier write of a version the action rewrote later
			}
			seen[rls.Version] = true
			// The digest must be the one of the record as stored (and read back by the
			// next state determination), not of the object the action held.
			if stored, err := cfg.Releases.Get(rls.Name, rls.Version); err == nil {
				rls = stored
			}
			s := Snapshot(rls, "")
			if newest == nil || s.Version >= newest.Version {
				newest = s
			}
			obj.Status.History = Record(obj.Status.History, s)
		}
		if newest != nil && tag != "" {
			newest.Action = tag
			if tag == string(Install) || tag == string(Upgrade) {
				newest.OCIDigest = req.OCIDigest
				newest.TestHooks = nil // a new release has not been tested
			}
		}
		if len(written) > 0 {
			obj.Status.StorageNamespace = r.Factory.StorageNamespace()
		}
		return newest
	}
	chartName := ""
	if req.Chart != nil && req.Chart.Metadata != nil {
		chartName = req.Chart.Metadata.Name + "@" + req.Chart.Metadata.Version
	}

	switch d.Action {
	case Install, Upgrade:
		releaseAction := v2.ReleaseActionInstall
		run := action.Install
		if d.Action == Upgrade {
			releaseAction, run = v2.ReleaseActionUpgrade, action.Upgrade
		}
		obj.Status.LastAttemptedReleaseAction = releaseAction
		if d.Action == Install {
			// An install starts a new life of the release (nothing, or only an uninstalled
			// release, is in the storage): the history of the previous one is void, and
			// version numbers may start over.
			obj.Status.History = nil
		}
		start := r.now()
		_, err := run(ctx, cfg, obj, req.Chart, req.Values, r.Options)
		obj.Status.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: r.now().Sub(start)}
		s := observe(string(d.Action))
		name := fmt.Sprintf("%s/%s", obj.GetReleaseNamespace(), obj.GetReleaseName())
		if s != nil {
			name = s.FullReleaseName()
		}
		verb := "install"
		succeeded, failed := v2.InstallSucceededReason, v2.InstallFailedReason
		if d.Action == Upgrade {
			verb, succeeded, failed = "upgrade", v2.UpgradeSucceededReason, v2.UpgradeFailedReason
		}
		if err != nil {
			msg := fmt.Sprintf("Helm %s failed for release %s with chart %s: %s", verb, name, chartName, err)
			r.condition(obj, v2.ReleasedCondition, metav1.ConditionFalse, failed, msg)
			res.Events = append(res.Events, Event{Type: corev1.EventTypeWarning, Reason: failed, Message: msg})
			obj.Status.Failures++
			// Only a failure that left a release in the storage counts against the retries:
			// there is something to remediate. Without one (a template error, a rejected
			// value) the action is simply retried.
			if s == nil || s.Status == release.StatusPendingInstall.String() || s.Status == release.StatusPendingUpgrade.String() {
				return fmt.Errorf("%s", msg)
			}
			if d.Action == Install {
				obj.Status.InstallFailures++
			} else {
				obj.Status.UpgradeFailures++
			}
			if RetryInterval(obj) > 0 {
				return fmt.Errorf("%s", msg)
			}
			return nil
		}
		msg := fmt.Sprintf("Helm %s succeeded for release %s with chart %s", verb, name, chartName)
		r.condition(obj, v2.ReleasedCondition, metav1.ConditionTrue, succeeded, msg)
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.RemediatedCondition)
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.TestSuccessCondition)
		obj.Status.ObservedPostRenderersDigest = ObjectDigest(obj.Spec.PostRenderers)
		obj.Status.ObservedCommonMetadataDigest = ObjectDigest(obj.Spec.CommonMetadata)
		res.Events = append(res.Events, Event{Type: corev1.EventTypeNormal, Reason: succeeded, Message: msg})
		return nil

	case Test:
		rls, err := action.Test(ctx, cfg, obj)
		observe("")
		cur := obj.Status.History.Latest()
		if rls != nil && cur != nil && cur.Version == rls.Version {
			cur.SetTestHooks(TestHooks(rls))
		}
		if err != nil {
			msg := fmt.Sprintf("Helm test failed for release %s with chart %s: %s", cur.FullReleaseName(), cur.VersionedChartName(), err)
			r.condition(obj, v2.TestSuccessCondition, metav1.ConditionFalse, v2.TestFailedReason, msg)
			res.Events = append(res.Events, Event{Type: corev1.EventTypeWarning, Reason: v2.TestFailedReason, Message: msg})
			if cur == nil || !cur.HasBeenTested() {
				return fmt.Errorf("%s", msg)
			}
			ignore := obj.GetTest().IgnoreFailures
			if rem := obj.GetActiveRemediation(); rem != nil {
				ignore = rem.MustIgnoreTestFailures(ignore)
			}
			if !ignore {
				obj.Status.Failures++
				incrementFailures(obj)
			}
			return nil
		}
		msg := fmt.Sprintf("Helm test succeeded for release %s with chart %s: %d test hooks completed successfully", cur.FullReleaseName(), cur.VersionedChartName(), len(cur.GetTestHooks()))
		r.condition(obj, v2.TestSuccessCondition, metav1.ConditionTrue, v2.TestSucceededReason, msg)
		res.Events = append(res.Events, Event{Type: corev1.EventTypeNormal, Reason: v2.TestSucceededReason, Message: msg})
		return nil

	case Unlock:
		rls, err := action.Unlock(ctx, cfg, obj.GetReleaseName())
		observe("")
		if err != nil {
			return err
		}
		if rls != nil {
			res.Events = append(res.Events, Event{Type: corev1.EventTypeNormal, Reason: "Unlocked", Message: fmt.Sprintf("Unlocked Helm release %s: %s", fullName(rls), d.Reason)})
		}
		return nil

	case RollbackRemediation:
		err := action.Rollback(ctx, cfg, obj, d.RollbackTo.Version, r.Options)
		observe("rollback")
		if err != nil {
			msg := fmt.Sprintf("Helm rollback to previous release %s with chart %s failed: %s", d.RollbackTo.FullReleaseName(), d.RollbackTo.VersionedChartName(), err)
			r.condition(obj, v2.RemediatedCondition, metav1.ConditionTrue, v2.RollbackFailedReason, msg)
			res.Events = append(res.Events, Event{Type: corev1.EventTypeWarning, Reason: v2.RollbackFailedReason, Message: msg})
			obj.Status.Failures++
			return fmt.Errorf("%s", msg)
		}
		msg := fmt.Sprintf("Helm rollback to previous release %s with chart %s succeeded", d.RollbackTo.FullReleaseName(), d.RollbackTo.VersionedChartName())
		r.condition(obj, v2.RemediatedCondition, metav1.ConditionTrue, v2.RollbackSucceededReason, msg)
		res.Events = append(res.Events, Event{Type: corev1.EventTypeNormal, Reason: v2.RollbackSucceededReason, Message: msg})
		return nil

	case UninstallRemediation:
		cur := obj.Status.History.Latest()
		_, err := action.Uninstall(ctx, cfg, obj, obj.GetReleaseName(), r.Options)
		observe("uninstall")
		if err != nil {
			msg := fmt.Sprintf("Helm uninstall for release %s failed: %s", cur.FullReleaseName(), err)
			r.condition(obj, v2.RemediatedCondition, metav1.ConditionTrue, v2.UninstallFailedReason, msg)
			res.Events = append(res.Events, Event{Type: corev1.EventTypeWarning, Reason: v2.UninstallFailedReason, Message: msg})
			obj.Status.Failures++
			return fmt.Errorf("%s", msg)
		}
		if cur != nil && cur.Status != release.StatusUninstalled.String() {
			// Without keepHistory the records are deleted, not rewritten: record the end.
			deleted := metav1.NewTime(r.now())
			cur.Status, cur.Deleted = release.StatusUninstalled.String(), &deleted
		}
		msg := fmt.Sprintf("Helm uninstall for release %s with chart %s succeeded", cur.FullReleaseName(), cur.VersionedChartName())
		r.condition(obj, v2.RemediatedCondition, metav1.ConditionTrue, v2.UninstallSucceededReason, msg)
		res.Events = append(res.Events, Event{Type: corev1.EventTypeNormal, Reason: v2.UninstallSucceededReason, Message: msg})
		return nil

	case CorrectDrift:
		cs, err := r.Drift.Correct(ctx, res.Drift, *obj.GetDriftDetection())
		changes := ""
		if cs != nil {
			changes = cs.Changes().String()
		}
		if err != nil {
			msg := fmt.Sprintf("Failed to correct cluster state drift of release %s: %s\n%s", obj.Status.History.Latest().FullReleaseName(), err, changes)
			res.Events = append(res.Events, Event{Type: corev1.EventTypeWarning, Reason: "DriftCorrectionFailed", Message: msg})
			return fmt.Errorf("correct drift: %w", err)
		}
		msg := fmt.Sprintf("Cluster state of release %s has been corrected:\n%s", obj.Status.History.Latest().FullReleaseName(), changes)
		res.Events = append(res.Events, Event{Type: corev1.EventTypeNormal, Reason: "DriftCorrected", Message: msg})
		return nil

	case WarnDrift:
		msg := fmt.Sprintf("Cluster state of release %s has drifted from the desired state: %s", obj.Status.History.Latest().FullReleaseName(), d.Reason)
		res.Events = append(res.Events, Event{Type: corev1.EventTypeWarning, Reason: "DriftDetected", Message: msg})
		return nil
	}
	return fmt.Errorf("unknown action %q", d.Action)
}

// incrementFailures counts a failure of the last attempted release action.
func incrementFailures(obj *v2.HelmRelease) {
	switch obj.Status.LastAttemptedReleaseAction {
	case v2.ReleaseActionInstall:
		obj.Status.InstallFailures++
	case v2.ReleaseActionUpgrade:
		obj.Status.UpgradeFailures++
	}
}

// condition sets a condition of the HelmRelease for its current generation.
func (r *Runner) condition(obj *v2.HelmRelease, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: obj.Generation,
		LastTransitionTime: metav1.NewTime(r.now()),
	})
}
