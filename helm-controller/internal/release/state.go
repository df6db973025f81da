package release

import (
	"fmt"

	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
)

// Status is the state of a Helm release compared with the HelmRelease.
type Status string

const (
	// Absent: no release in the storage, or only an uninstalled one.
	Absent Status = "Absent"
	// Locked: the latest release is pending (install, upgrade, rollback) or uninstalling:
	// an action was interrupted, by a killed controller or a killed `helm`.
	Locked Status = "Locked"
	// Unmanaged: the latest release is not the one status.history recorded: it was made or
	// changed outside the controller (`helm upgrade`, `helm rollback`, an edited storage
	// Secret) or before the controller managed it.
	Unmanaged Status = "Unmanaged"
	// Failed: the latest release failed, or its tests failed and failures are not ignored.
	Failed Status = "Failed"
	// OutOfSync: the release is deployed but with another chart, other values, or other
	// post-renderers or common metadata than desired.
	OutOfSync Status = "OutOfSync"
	// Untested: the release is in sync but tests are enabled and have not run.
	Untested Status = "Untested"
	// Drifted: the release is in sync but the cluster differs from its manifest.
	Drifted Status = "Drifted"
	// InSync: nothing to do.
	InSync Status = "InSync"
	// Unknown: the storage holds something the controller cannot act on (see State.Err).
	Unknown Status = "Unknown"
)

// State is the result of DetermineState.
type State struct {
	Status Status
	// Reason explains Status in words, for logs and events.
	Reason string
	// Current is the latest release record in the storage (nil when there is none).
	Current *release.Release
	// Err is set with Unknown.
	Err error
}

// Desired is what the release should be made of.
type Desired struct {
	// ChartName and ChartVersion of the chart to release (the version of an OCI chart
	// carries the "+<digest[0:12]>" build metadata the caller appends).
	ChartName    string
	ChartVersion string
	// ValuesDigest is ValuesDigest of the composed values.
	ValuesDigest string
}

// Latest returns the record with the highest version, or nil.
func Latest(records []*release.Release) *release.Release {
	var latest *release.Release
	for _, r := range records {
		if r != nil && (latest == nil || r.Version > latest.Version) {
			latest = r
		}
	}
	return latest
}

// find returns the record of version, or nil.
func find(records []*release.Release, version int) *release.Release {
	for _, r := range records {
		if r != nil && r.Version == version {
			return r
		}
	}
	return nil
}

// isLocked tells whether a release status means an action is (or was, before it was
// killed) running on it.
func isLocked(s release.Status) bool {
	return s.IsPending() || s == release.StatusUninstalling
}

// DetermineState compares records (every record of the release name in the storage
// namespace, in any order) with obj's status.history, spec and the desired chart and
// values. It reads nothing: drift is folded in afterwards with WithDrift.
func DetermineState(obj *v2.HelmRelease, desired Desired, records []*release.Release) State {
	rls := Latest(records)
	if rls == nil {
		return State{Status: Absent, Reason: "no release in storage"}
	}
	st := State{Current: rls}
	status := release.StatusUnknown
	if rls.Info != nil {
		status = rls.Info.Status
	}
	if isLocked(status) {
		st.Status, st.Reason = Locked, fmt.Sprintf("release %s has status '%s'", fullName(rls), status)
		return st
	}
	cur := obj.Status.History.Latest()
	if cur == nil {
		if status == release.StatusUninstalled {
			st.Status, st.Reason = Absent, "found uninstalled release in storage"
			return st
		}
		st.Status, st.Reason = Unmanaged, fmt.Sprintf("found release %s in storage that the HelmRelease did not make", fullName(rls))
		return st
	}
	if cur.Name != rls.Name || cur.Namespace != rls.Namespace || cur.Version != rls.Version {
		st.Status, st.Reason = Unmanaged, fmt.Sprintf("latest release in storage is %s, not %s as last observed", fullName(rls), cur.FullReleaseName())
		return st
	}
	if cur.Digest != ReleaseDigest(rls) {
		st.Status, st.Reason = Unmanaged, fmt.Sprintf("release %s in storage changed since last observed", fullName(rls))
		return st
	}
	switch status {
	case release.StatusFailed:
		st.Status, st.Reason = Failed, fmt.Sprintf("release %s failed", fullName(rls))
		return st
	case release.StatusUninstalled:
		st.Status, st.Reason = Absent, "found uninstalled release in storage"
		return st
	case release.StatusDeployed:
	default:
		st.Status, st.Err = Unknown, fmt.Errorf("cannot act on release %s with status '%s'", fullName(rls), status)
		return st
	}
	if reason := outOfSync(obj, desired, rls, cur); reason != "" {
		st.Status, st.Reason = OutOfSync, reason
		return st
	}
	if test := obj.GetTest(); test.Enable {
		if !cur.HasBeenTested() {
			st.Status, st.Reason = Untested, fmt.Sprintf("release %s has not been tested", fullName(rls))
			return st
		}
		if r := obj.GetActiveRemediation(); r != nil && !r.MustIgnoreTestFailures(test.IgnoreFailures) && hasFailedTest(cur) {
			st.Status, st.Reason = Failed, fmt.Sprintf("release %s has a failed test", fullName(rls))
			return st
		}
	}
	st.Status = InSync
	return st
}

// outOfSync tells why the deployed release rls (observed as cur) is not the desired one.
func outOfSync(obj *v2.HelmRelease, desired Desired, rls *release.Release, cur *v2.Snapshot) string {
	var name, version string
	if rls.Chart != nil && rls.Chart.Metadata != nil {
		name, version = rls.Chart.Metadata.Name, rls.Chart.Metadata.Version
	}
	switch {
	case name != desired.ChartName || version != desired.ChartVersion:
		return fmt.Sprintf("chart changed from %s@%s to %s@%s", name, version, desired.ChartName, desired.ChartVersion)
	case cur.ConfigDigest != desired.ValuesDigest:
		return "values changed"
	case obj.Status.ObservedPostRenderersDigest != "" && obj.Status.ObservedPostRenderersDigest != ObjectDigest(obj.Spec.PostRenderers):
		return "post-renderers changed"
	case obj.Status.ObservedCommonMetadataDigest != "" && obj.Status.ObservedCommonMetadataDigest != ObjectDigest(obj.Spec.CommonMetadata):
		return "common metadata changed"
	}
	return ""
}

// WithDrift returns st as Drifted when drift detection found changes (summary describes
// them). Only an InSync state can drift.
func WithDrift(st State, drifted bool, summary string) State {
	if st.Status == InSync && drifted {
		st.Status, st.Reason = Drifted, summary
	}
	return st
}

func fullName(rls *release.Release) string {
	return fmt.Sprintf("%s/%s.v%d", rls.Namespace, rls.Name, rls.Version)
}
