package release

import (
	"sort"

	"helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
)

// Snapshot returns the status.history entry describing a release record: name, namespace,
// version, status, chart name, version and app version, the digest of its values and of
// the record, and when it was first and last deployed and deleted. Test hooks are not
// filled in (see TestHooks): a release counts as tested only once the controller ran its
// tests. ociDigest is the digest of the OCI artifact the chart came from ("" otherwise).
func Snapshot(rls *release.Release, ociDigest string) *v2.Snapshot {
	s := &v2.Snapshot{
		Digest:    ReleaseDigest(rls),
		Name:      rls.Name,
		Namespace: rls.Namespace,
		Version:   rls.Version,
		OCIDigest: ociDigest,
	}
	if rls.Chart != nil && rls.Chart.Metadata != nil {
		s.ChartName = rls.Chart.Metadata.Name
		s.ChartVersion = rls.Chart.Metadata.Version
		s.AppVersion = rls.Chart.Metadata.AppVersion
	}
	s.ConfigDigest = ValuesDigest(rls.Config)
	if info := rls.Info; info != nil {
		s.Status = info.Status.String()
		s.FirstDeployed = metav1.NewTime(info.FirstDeployed.Time)
		s.LastDeployed = metav1.NewTime(info.LastDeployed.Time)
		if !info.Deleted.IsZero() {
			d := metav1.NewTime(info.Deleted.Time)
			s.Deleted = &d
		}
	}
	return s
}

// TestHooks returns the state of the test hooks of a release record, by hook name. Hooks
// that never ran have an empty entry.
func TestHooks(rls *release.Release) map[string]*v2.TestHookStatus {
	hooks := map[string]*v2.TestHookStatus{}
	for _, h := range rls.Hooks {
		if !isTestHook(h) {
			continue
		}
		st := &v2.TestHookStatus{}
		if !h.LastRun.StartedAt.IsZero() {
			t := metav1.NewTime(h.LastRun.StartedAt.Time)
			st.LastStarted = &t
		}
		if !h.LastRun.CompletedAt.IsZero() {
			t := metav1.NewTime(h.LastRun.CompletedAt.Time)
			st.LastCompleted = &t
		}
		st.Phase = h.LastRun.Phase.String()
		if h.LastRun.Phase == release.HookPhaseUnknown {
			st.Phase = ""
		}
		hooks[h.Name] = st
	}
	return hooks
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// hasFailedTest tells whether a test hook of s failed.
func hasFailedTest(s *v2.Snapshot) bool {
	for _, h := range s.GetTestHooks() {
		if h != nil && h.Phase == release.HookPhaseFailed.String() {
			return true
		}
	}
	return false
}

// Record puts s into history (newest first): it replaces the entry of the same release
// and version, keeping that entry's test results, or is added in version order.
func Record(history v2.Snapshots, s *v2.Snapshot) v2.Snapshots {
	for i, cur := range history {
		if cur != nil && cur.Name == s.Name && cur.Namespace == s.Namespace && cur.Version == s.Version {
			// Test results belong to this incarnation of the version only: a release
			// reinstalled after an uninstall starts at version 1 again.
			if s.TestHooks == nil && cur.FirstDeployed.Equal(&s.FirstDeployed) {
				s.TestHooks = cur.TestHooks
			}
			if s.OCIDigest == "" {
				s.OCIDigest = cur.OCIDigest
			}
			if s.Action == "" {
				s.Action = cur.Action
			}
			history[i] = s
			return history
		}
	}
	history = append(history, s)
	sort.SliceStable(history, func(i, j int) bool { return history[i].Version > history[j].Version })
	return history
}

// isSuccessful tells whether s was a good release to return to: deployed or superseded,
// and without failed tests unless those are ignored.
func isSuccessful(s *v2.Snapshot, ignoreTestFailures bool) bool {
	if s == nil {
		return false
	}
	if s.Status != release.StatusDeployed.String() && s.Status != release.StatusSuperseded.String() {
		return false
	}
	return ignoreTestFailures || !hasFailedTest(s)
}

// Previous returns the newest entry after the latest one that was a successful release
// (the target of a rollback), or nil.
func Previous(history v2.Snapshots, ignoreTestFailures bool) *v2.Snapshot {
	for i := 1; i < len(history); i++ {
		if isSuccessful(history[i], ignoreTestFailures) {
			return history[i]
		}
	}
	return nil
}

// Truncate drops the entries older than the previous successful release, so the history
// holds what the controller did since then and nothing more.
func Truncate(history v2.Snapshots, ignoreTestFailures bool) v2.Snapshots {
	for i := 1; i < len(history); i++ {
		if isSuccessful(history[i], ignoreTestFailures) {
			return history[:i+1]
		}
	}
	return history
}
