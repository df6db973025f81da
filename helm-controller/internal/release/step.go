package release

import (
	"fmt"
	"slices"
	"sync"

	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
)

// step is one action being executed: its Helm configuration, whose storage reports every
// record it writes, and what the action tells the reconciler.
type step struct {
	r   *Runner
	req Request
	obj *v2.HelmRelease
	res *Result
	cfg *helmaction.Configuration

	// Helm's install and upgrade write from their own goroutine, which outlives the action
	// when the context ends first: the records it writes are guarded.
	mu      sync.Mutex
	written []*release.Release
}

func (r *Runner) newStep(req Request, res *Result) (*step, error) {
	s := &step{r: r, req: req, obj: req.Object, res: res}
	cfg, err := r.Factory.Build(func(rls *release.Release) {
		if rls.Name == s.obj.GetReleaseName() {
			s.mu.Lock()
			s.written = append(s.written, rls)
			s.mu.Unlock()
		}
	})
	s.cfg = cfg
	return s, err
}

// observe records the release records the action wrote into status.history and returns
// the entry of the newest, tagged with the action (nil when nothing was written).
func (s *step) observe(tag string) *v2.Snapshot {
	s.mu.Lock()
	written := slices.Clone(s.written)
	s.mu.Unlock()
	var newest *v2.Snapshot
	seen := map[int]bool{}
	for i := len(written) - 1; i >= 0; i-- {
		rls := written[i]
		if seen[rls.Version] {
			continue // an earlier write of a version the action rewrote later
		}
		seen[rls.Version] = true
		// The digest must be the one of the record as stored (and read back by the next
		// state determination), not of the object the action held.
		if stored, err := s.cfg.Releases.Get(rls.Name, rls.Version); err == nil {
			rls = stored
		}
		snap := Snapshot(rls, "")
		if newest == nil || snap.Version >= newest.Version {
			newest = snap
		}
		s.obj.Status.History = Record(s.obj.Status.History, snap)
	}
	if newest != nil && tag != "" {
		newest.Action = tag
	}
	if len(written) > 0 {
		s.obj.Status.StorageNamespace = s.r.Factory.StorageNamespace()
	}
	return newest
}

// normal, warning and success add an event for the reconciler to record, annotated with
// what the release is made of (EventMetadata).
func (s *step) normal(reason, msg string) { s.event(corev1.EventTypeNormal, reason, msg, false) }

func (s *step) warning(reason, msg string) { s.event(corev1.EventTypeWarning, reason, msg, false) }

func (s *step) success(reason, msg string) { s.event(corev1.EventTypeNormal, reason, msg, true) }

func (s *step) event(eventType, reason, msg string, success bool) {
	s.res.Events = append(s.res.Events, Event{Type: eventType, Reason: reason, Message: msg,
		Metadata: s.eventMetadata(), Success: success})
}

// eventMetadata describes the release the event is about: the newest history entry, or
// the chart and values being released when the action left no record.
func (s *step) eventMetadata() map[string]string {
	if cur := s.obj.Status.History.Latest(); cur != nil {
		return EventMetadata(cur.ChartVersion, cur.ConfigDigest, cur.AppVersion, cur.OCIDigest)
	}
	var version, appVersion string
	if s.req.Chart != nil && s.req.Chart.Metadata != nil {
		version, appVersion = s.req.Chart.Metadata.Version, s.req.Chart.Metadata.AppVersion
	}
	return EventMetadata(version, ValuesDigest(s.req.Values), appVersion, s.req.OCIDigest)
}

// condition sets a condition of the HelmRelease for its current generation.
func (s *step) condition(typ string, status metav1.ConditionStatus, reason, msg string) {
	s.r.condition(s.obj, typ, status, reason, msg)
}

func (r *Runner) condition(obj *v2.HelmRelease, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: obj.Generation,
		LastTransitionTime: metav1.NewTime(r.now()),
	})
}

// chartName is "<name>@<version>" of the chart being released.
func (s *step) chartName() string {
	if s.req.Chart == nil || s.req.Chart.Metadata == nil {
		return ""
	}
	return s.req.Chart.Metadata.Name + "@" + s.req.Chart.Metadata.Version
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

// failed returns msg as the error of a failed step.
func failed(msg string) error { return fmt.Errorf("%s", msg) }
