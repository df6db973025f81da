package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/action"
	"gotk.dev/helm-controller/internal/drift"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/pkg/ssa"
)

// DriftDetector detects and corrects drift of a release manifest (drift.Detector).
type DriftDetector interface {
	Detect(ctx context.Context, manifest, namespace string, spec v2.DriftDetection) (*drift.Report, error)
	Correct(ctx context.Context, report *drift.Report, spec v2.DriftDetection) (*ssa.ChangeSet, error)
}

// Runner runs the release of one HelmRelease: it observes the storage, decides and
// executes actions until the release is in sync, an action kind would repeat, a
// remediation ran, or an action failed (upstream's atomic release).
type Runner struct {
	// Factory builds Helm configurations for the release and storage namespace of the
	// HelmRelease (kube.NewFactory).
	Factory *kube.Factory
	// Options are passed to every action.
	Options action.Options
	// Drift detects drift when spec.driftDetection asks for it; nil skips detection.
	Drift DriftDetector
	// Now returns the current time (time.Now when nil).
	Now func() time.Time
}

// Request is what one reconciliation releases.
type Request struct {
	// Object is the HelmRelease; its status (history, counters, conditions Released,
	// TestSuccess and Remediated) is updated in place.
	Object *v2.HelmRelease
	// Chart is the loaded chart. Its Metadata.Version is the version the release records
	// (for OCI sources with the "+<digest[0:12]>" suffix).
	Chart *chart.Chart
	// Values are the composed values (gotk.dev/helmrender/values.Compose).
	Values chartutil.Values
	// OCIDigest is the digest of the chart's OCI artifact, recorded in the history.
	OCIDigest string
	// ForceRequested tells that a force request (reconcile.fluxcd.io/forceAt) is pending.
	ForceRequested bool
	// VerifyHealth defers the outcome of an install or upgrade whose spec does not disable
	// waiting: instead of Helm blocking until the release's objects are ready, the loop
	// stops after the action with Released=Unknown and Result.Unverified set, and the
	// caller checks the objects' health (watch-driven, no worker held) before calling
	// Verified or VerificationFailed.
	VerifyHealth bool
}

// Event is something to report as a Kubernetes event (and to notification-controller).
type Event struct {
	// Type is "Normal" or "Warning".
	Type    string
	Reason  string
	Message string
	// Metadata annotates the event (EventMetadata: the chart version as the revision, the
	// values digest as the token, the app version and OCI digest).
	Metadata map[string]string
	// Success marks the outcome of a successful install, upgrade or test: the event that
	// moves a Git commit status to success.
	Success bool
}

// Result tells the reconciler what happened and what to do next.
type Result struct {
	// Actions ran, in order.
	Actions []Action
	// Events to record, in order.
	Events []Event
	// Requeue asks for an immediate requeue to continue (after a remediation, or when an
	// action of a kind already run is next).
	Requeue bool
	// RetryAfter is the wait before retrying after a failure, with the RetryOnFailure
	// strategy (0: back off as for any error).
	RetryAfter time.Duration
	// ForceHandled: a forced action ran; record the force request as handled.
	ForceHandled bool
	// Drift is the last drift report (nil when not detected).
	Drift *drift.Report
	// Unverified is set when an install or upgrade succeeded and its objects' health is to
	// be verified by the caller (Request.VerifyHealth).
	Unverified bool
	// Current is the newest release record observed (nil when the storage holds none): its
	// manifest lists the release's objects.
	Current *release.Release
}

// Reconcile runs the release loop. The error is ErrRetriesExhausted or
// ErrMissingRollbackTarget (wrapped) when the HelmRelease must stall, otherwise the failure
// of the state determination or of an action, to be retried.
func (r *Runner) Reconcile(ctx context.Context, req Request) (Result, error) {
	obj := req.Object
	var res Result
	desired := Desired{ValuesDigest: ValuesDigest(req.Values)}
	if req.Chart != nil && req.Chart.Metadata != nil {
		desired.ChartName, desired.ChartVersion = req.Chart.Metadata.Name, req.Chart.Metadata.Version
	}
	var previous []Kind
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		records, err := r.records(obj.GetReleaseName())
		if err != nil {
			return res, fmt.Errorf("%w: read release history from storage namespace %s: %w", ErrStateUnknown, r.Factory.StorageNamespace(), err)
		}
		st := DetermineState(obj, desired, records)
		res.Current = st.Current
		if st.Status == InSync && r.Drift != nil && obj.GetDriftDetection().MustDetectChanges() {
			report, err := r.Drift.Detect(ctx, st.Current.Manifest, obj.GetReleaseNamespace(), *obj.GetDriftDetection())
			if err != nil && !report.HasChanges() {
				return res, fmt.Errorf("drift detection: %w", err)
			}
			res.Drift = report
			st = WithDrift(st, report.HasChanges(), report.Summary())
		}
		d := Decide(Input{Object: obj, State: st, Records: records, ForceRequested: req.ForceRequested && !res.ForceHandled})
		if d.ClearHistory {
			obj.Status.History = nil
		}
		if d.TruncateHistory {
			obj.Status.History = Truncate(obj.Status.History, d.IgnoreTestFailures)
		}
		if d.Err != nil {
			return res, d.Err
		}
		if d.Action == None {
			r.settleRemediated(obj)
			return res, nil
		}
		kind := d.Action.Kind()
		if slices.Contains(previous, kind) {
			res.Requeue = true
			return res, nil
		}
		err = r.run(ctx, req, d, &res)
		res.Actions = append(res.Actions, d.Action)
		if d.ForceHandled {
			res.ForceHandled = true
		}
		if err != nil {
			res.RetryAfter = RetryInterval(obj)
			return res, err
		}
		if res.Unverified {
			return res, nil
		}
		switch kind {
		case KindRemediation:
			if rem := obj.GetActiveRemediation(); rem != nil && rem.RetriesExhausted(failureCount(obj)) {
				return res, fmt.Errorf("%w: failed to %s after %d attempt(s)", ErrRetriesExhausted, obj.Status.LastAttemptedReleaseAction, failureCount(obj))
			}
			res.Requeue = true
			return res, nil
		case KindDrift:
			return res, nil
		}
		previous = append(previous, kind)
	}
}

// records returns every record of name in the storage (none is not an error).
func (r *Runner) records(name string) ([]*release.Release, error) {
	cfg, err := r.Factory.Build(nil)
	if err != nil {
		return nil, err
	}
	records, err := cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	return records, err
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// settleRemediated turns a Remediated condition into Released once the release is in
// sync without a new release action: the rollback target turned out to match the desired
// state (same chart and values), so the release is what was asked for.
func (r *Runner) settleRemediated(obj *v2.HelmRelease) {
	c := apimeta.FindStatusCondition(obj.Status.Conditions, v2.RemediatedCondition)
	if c == nil || c.Status != metav1.ConditionTrue {
		return
	}
	cur := obj.Status.History.Latest()
	if cur == nil {
		return
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.RemediatedCondition)
	r.condition(obj, v2.ReleasedCondition, metav1.ConditionTrue, v2.UpgradeSucceededReason,
		fmt.Sprintf("Helm upgrade succeeded for release %s with chart %s", cur.FullReleaseName(), cur.VersionedChartName()))
}
