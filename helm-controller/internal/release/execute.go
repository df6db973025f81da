package release

import (
	"context"
	"fmt"

	"helm.sh/helm/v3/pkg/release"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/action"
)

// run executes one decision and records its outcome on the HelmRelease.
func (r *Runner) run(ctx context.Context, req Request, d Decision, res *Result) error {
	s, err := r.newStep(req, res)
	if err != nil {
		return err
	}
	switch d.Action {
	case Install, Upgrade:
		return s.release(ctx, d.Action)
	case Test:
		return s.test(ctx)
	case Unlock:
		return s.unlock(ctx, d.Reason)
	case RollbackRemediation:
		return s.rollback(ctx, d.RollbackTo)
	case UninstallRemediation:
		return s.uninstall(ctx)
	case CorrectDrift:
		return s.correctDrift(ctx)
	case WarnDrift:
		s.warning("DriftDetected", fmt.Sprintf("Cluster state of release %s has drifted from the desired state: %s",
			s.obj.Status.History.Latest().FullReleaseName(), d.Reason))
		return nil
	}
	return fmt.Errorf("unknown action %q", d.Action)
}

// release installs or upgrades. A failure that left a release in the storage counts
// against the retries and returns no error, so the loop remediates it at once (or, with
// RetryOnFailure, returns it to be retried after the interval); a failure that left
// nothing (a template error, values against the schema) is returned to be retried.
func (s *step) release(ctx context.Context, a Action) error {
	obj := s.obj
	verb, run := "install", action.Install
	releaseAction, succeeded, failedReason := v2.ReleaseActionInstall, v2.InstallSucceededReason, v2.InstallFailedReason
	if a == Upgrade {
		verb, run = "upgrade", action.Upgrade
		releaseAction, succeeded, failedReason = v2.ReleaseActionUpgrade, v2.UpgradeSucceededReason, v2.UpgradeFailedReason
	} else {
		// An install starts a new life of the release (nothing, or only an uninstalled
		// release, is in the storage): the history of the previous one is void, version
		// numbers may start over, and no earlier test or remediation applies.
		obj.Status.History = nil
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.TestSuccessCondition)
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.RemediatedCondition)
	}
	obj.Status.LastAttemptedReleaseAction = releaseAction
	start := s.r.now()
	rls, err := run(ctx, s.cfg, obj, s.req.Chart, s.req.Values, s.r.Options)
	if rls != nil {
		s.res.Current = rls
	}
	obj.Status.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: s.r.now().Sub(start)}

	snap := s.observe(verb)
	name := obj.GetReleaseNamespace() + "/" + obj.GetReleaseName()
	if snap != nil {
		snap.OCIDigest = s.req.OCIDigest
		snap.TestHooks = nil // a new release has not been tested
		name = snap.FullReleaseName()
	}
	if err != nil {
		msg := fmt.Sprintf("Helm %s failed for release %s with chart %s: %s", verb, name, s.chartName(), err)
		s.condition(v2.ReleasedCondition, metav1.ConditionFalse, failedReason, msg)
		s.warning(failedReason, msg)
		obj.Status.Failures++
		if snap == nil || snap.Status == release.StatusPendingInstall.String() || snap.Status == release.StatusPendingUpgrade.String() {
			return failed(msg)
		}
		incrementFailures(obj)
		if RetryInterval(obj) > 0 {
			return failed(msg)
		}
		return nil
	}
	msg := fmt.Sprintf("Helm %s succeeded for release %s with chart %s", verb, name, s.chartName())
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.RemediatedCondition)
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.TestSuccessCondition)
	obj.Status.ObservedPostRenderersDigest = ObjectDigest(obj.Spec.PostRenderers)
	obj.Status.ObservedCommonMetadataDigest = ObjectDigest(obj.Spec.CommonMetadata)
	if s.req.VerifyHealth && !disableWait(obj, a) {
		s.condition(v2.ReleasedCondition, metav1.ConditionUnknown, progressingReason, msg+awaitingHealth)
		s.res.Unverified = true
		return nil
	}
	s.condition(v2.ReleasedCondition, metav1.ConditionTrue, succeeded, msg)
	s.success(succeeded, msg)
	return nil
}

// test runs the tests and records their results in the history. A test failure that is
// not ignored counts as a failure of the release action it followed, and returns no
// error: the loop remediates it.
func (s *step) test(ctx context.Context) error {
	obj := s.obj
	rls, err := action.Test(ctx, s.cfg, obj)
	s.observe("")
	cur := obj.Status.History.Latest()
	if rls != nil && cur != nil && cur.Version == rls.Version {
		cur.SetTestHooks(TestHooks(rls))
	}
	if err != nil {
		msg := fmt.Sprintf("Helm test failed for release %s with chart %s: %s", cur.FullReleaseName(), cur.VersionedChartName(), err)
		s.condition(v2.TestSuccessCondition, metav1.ConditionFalse, v2.TestFailedReason, msg)
		s.warning(v2.TestFailedReason, msg)
		if !cur.HasBeenTested() {
			return failed(msg)
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
	msg := fmt.Sprintf("Helm test succeeded for release %s with chart %s: %d test hooks completed successfully",
		cur.FullReleaseName(), cur.VersionedChartName(), len(cur.GetTestHooks()))
	s.condition(v2.TestSuccessCondition, metav1.ConditionTrue, v2.TestSucceededReason, msg)
	s.success(v2.TestSucceededReason, msg)
	return nil
}

// unlock marks an interrupted release failed; the loop then treats it as any failed
// release and remediates it by policy. As upstream, the unlock itself is no failure of the
// release action (it counts in status.failures only when it fails): the interrupted action
// was never judged, and counting it would spend a retry on a controller restart.
func (s *step) unlock(ctx context.Context, _ string) error {
	before := s.obj.Status.History.Latest()
	rls, err := action.Unlock(ctx, s.cfg, s.obj.GetReleaseName())
	s.observe("")
	if err != nil {
		msg := fmt.Sprintf("Unlock of Helm release %s with chart %s failed: %s", before.FullReleaseName(), before.VersionedChartName(), err)
		s.obj.Status.Failures++
		s.condition(v2.ReleasedCondition, metav1.ConditionFalse, pendingReleaseReason, msg)
		s.warning(pendingReleaseReason, msg)
		return err
	}
	if rls != nil {
		msg := fmt.Sprintf("Unlocked Helm release %s with chart %s in %s state", fullName(rls), chartOf(rls), unlockedFrom(rls))
		s.condition(v2.ReleasedCondition, metav1.ConditionFalse, pendingReleaseReason, msg)
		s.normal(pendingReleaseReason, msg)
	}
	return nil
}

func (s *step) rollback(ctx context.Context, to *v2.Snapshot) error {
	err := action.Rollback(ctx, s.cfg, s.obj, to.Version, s.r.Options)
	s.observe("rollback")
	if err != nil {
		msg := fmt.Sprintf("Helm rollback to previous release %s with chart %s failed: %s", to.FullReleaseName(), to.VersionedChartName(), err)
		s.condition(v2.RemediatedCondition, metav1.ConditionTrue, v2.RollbackFailedReason, msg)
		s.warning(v2.RollbackFailedReason, msg)
		s.obj.Status.Failures++
		return failed(msg)
	}
	msg := fmt.Sprintf("Helm rollback to previous release %s with chart %s succeeded", to.FullReleaseName(), to.VersionedChartName())
	s.condition(v2.RemediatedCondition, metav1.ConditionTrue, v2.RollbackSucceededReason, msg)
	s.normal(v2.RollbackSucceededReason, msg)
	return nil
}

func (s *step) uninstall(ctx context.Context) error {
	cur := s.obj.Status.History.Latest()
	_, err := action.Uninstall(ctx, s.cfg, s.obj, s.obj.GetReleaseName(), s.r.Options)
	s.observe("uninstall")
	if err != nil {
		msg := fmt.Sprintf("Helm uninstall for release %s failed: %s", cur.FullReleaseName(), err)
		s.condition(v2.RemediatedCondition, metav1.ConditionTrue, v2.UninstallFailedReason, msg)
		s.warning(v2.UninstallFailedReason, msg)
		s.obj.Status.Failures++
		return failed(msg)
	}
	if cur != nil && cur.Status != release.StatusUninstalled.String() {
		// Without keepHistory the records are deleted, not rewritten: record the end.
		deleted := metav1.NewTime(s.r.now())
		cur.Status, cur.Deleted = release.StatusUninstalled.String(), &deleted
	}
	msg := fmt.Sprintf("Helm uninstall for release %s with chart %s succeeded", cur.FullReleaseName(), cur.VersionedChartName())
	s.condition(v2.RemediatedCondition, metav1.ConditionTrue, v2.UninstallSucceededReason, msg)
	s.normal(v2.UninstallSucceededReason, msg)
	return nil
}

func (s *step) correctDrift(ctx context.Context) error {
	s.warning("DriftDetected", fmt.Sprintf("Cluster state of release %s has drifted from the desired state: %s",
		s.obj.Status.History.Latest().FullReleaseName(), s.res.Drift.Summary()))
	cs, err := s.r.Drift.Correct(ctx, s.res.Drift, *s.obj.GetDriftDetection())
	changes := ""
	if cs != nil {
		changes = cs.Changes().String()
	}
	name := s.obj.Status.History.Latest().FullReleaseName()
	if err != nil {
		s.warning("DriftCorrectionFailed", fmt.Sprintf("Failed to correct cluster state drift of release %s: %s\n%s", name, err, changes))
		return fmt.Errorf("correct drift of release %s: %w", name, err)
	}
	s.normal("DriftCorrected", fmt.Sprintf("Cluster state of release %s has been corrected:\n%s", name, changes))
	return nil
}
