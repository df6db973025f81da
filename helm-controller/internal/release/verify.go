package release

import (
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/kube"
)

// Pending is an install or upgrade whose objects' health is still to be verified
// (Request.VerifyHealth): the newest history entry, recorded with Released=Unknown. It
// survives a restart of the controller, as it lives in the HelmRelease's status.
type Pending struct {
	// Snapshot is the history entry of the release.
	Snapshot *v2.Snapshot
	// Action is Install or Upgrade.
	Action Action
	// Deadline is when the action's timeout ends, counted from the release's deployment
	// as Helm's own wait counts it.
	Deadline time.Time
}

// PendingVerification returns the release of obj whose health is to be verified, or nil.
func PendingVerification(obj *v2.HelmRelease) *Pending {
	c := apimeta.FindStatusCondition(obj.Status.Conditions, v2.ReleasedCondition)
	cur := obj.Status.History.Latest()
	if c == nil || c.Status != metav1.ConditionUnknown || c.Reason != progressingReason || cur == nil {
		return nil
	}
	a, timeout := Install, obj.GetInstall().GetTimeout(obj.GetTimeout())
	if cur.Action == string(Upgrade) {
		a, timeout = Upgrade, obj.GetUpgrade().GetTimeout(obj.GetTimeout())
	}
	return &Pending{Snapshot: cur, Action: a, Deadline: cur.LastDeployed.Add(timeout)}
}

// verb is the action in messages.
func (p *Pending) verb() string { return string(p.Action) }

// Verified records that the objects of the pending release became ready: Released=True
// with the action's success reason. It returns the success event to record.
func Verified(obj *v2.HelmRelease, p *Pending, took time.Duration) Event {
	reason := v2.InstallSucceededReason
	if p.Action == Upgrade {
		reason = v2.UpgradeSucceededReason
	}
	msg := fmt.Sprintf("Helm %s succeeded for release %s with chart %s", p.verb(), p.Snapshot.FullReleaseName(), p.Snapshot.VersionedChartName())
	setCondition(obj, v2.ReleasedCondition, metav1.ConditionTrue, reason, msg)
	return Event{Type: corev1.EventTypeNormal, Reason: reason, Message: msg, Success: true,
		Metadata: EventMetadata(p.Snapshot.ChartVersion, p.Snapshot.ConfigDigest, p.Snapshot.AppVersion, p.Snapshot.OCIDigest)}
}

// VerificationFailed records that the objects of the pending release did not become ready
// (why says which and how): the release record is marked failed in the storage, as Helm's
// own wait would have left it, the failure counts against the action's retries and
// Released=False. The next Runner.Reconcile remediates it by policy. It returns the warning
// event to record.
func VerificationFailed(factory *kube.Factory, obj *v2.HelmRelease, p *Pending, why string) (Event, error) {
	reason := v2.InstallFailedReason
	if p.Action == Upgrade {
		reason = v2.UpgradeFailedReason
	}
	msg := fmt.Sprintf("Helm %s failed for release %s with chart %s: %s", p.verb(), p.Snapshot.FullReleaseName(), p.Snapshot.VersionedChartName(), why)
	cfg, err := factory.Build(nil)
	if err != nil {
		return Event{}, err
	}
	rls, err := cfg.Releases.Get(p.Snapshot.Name, p.Snapshot.Version)
	if err != nil {
		return Event{}, fmt.Errorf("mark release %s failed: %w", p.Snapshot.FullReleaseName(), err)
	}
	if rls.Info != nil && rls.Info.Status == release.StatusDeployed {
		rls.SetStatus(release.StatusFailed, strings.TrimSpace(fmt.Sprintf("%s failed: %s", titleCase(p.verb()), why)))
		if err := cfg.Releases.Update(rls); err != nil {
			return Event{}, fmt.Errorf("mark release %s failed: %w", p.Snapshot.FullReleaseName(), err)
		}
		obj.Status.History = Record(obj.Status.History, Snapshot(rls, ""))
	}
	obj.Status.LastAttemptedReleaseAction = v2.ReleaseActionInstall
	if p.Action == Upgrade {
		obj.Status.LastAttemptedReleaseAction = v2.ReleaseActionUpgrade
	}
	obj.Status.Failures++
	incrementFailures(obj)
	setCondition(obj, v2.ReleasedCondition, metav1.ConditionFalse, reason, msg)
	return Event{Type: corev1.EventTypeWarning, Reason: reason, Message: msg,
		Metadata: EventMetadata(p.Snapshot.ChartVersion, p.Snapshot.ConfigDigest, p.Snapshot.AppVersion, p.Snapshot.OCIDigest)}, nil
}

// Abandon forgets a pending verification that a newer desired state supersedes: the next
// release action replaces the Released condition anyway.
func Abandon(obj *v2.HelmRelease) {
	if p := PendingVerification(obj); p != nil {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, v2.ReleasedCondition)
	}
}

func setCondition(obj *v2.HelmRelease, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: obj.Generation,
	})
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
