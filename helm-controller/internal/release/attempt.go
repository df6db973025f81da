package release

import (
	"fmt"

	v2 "gotk.dev/helm-controller/api/v2"
)

// PrepareAttempt is called once per reconciliation before deciding. It resets the failure
// counters when a reset was requested (reconcile.fluxcd.io/resetAt) or the desired state
// changed since the last attempt (generation, chart version, values), and records the
// desired state as the last attempted one. It returns why the counters were reset ("" when
// they were not).
func PrepareAttempt(obj *v2.HelmRelease, chartVersion, valuesDigest string, resetRequested bool) string {
	st := &obj.Status
	var reason string
	switch {
	case resetRequested:
		reason = "reset requested"
	case st.LastAttemptedGeneration != obj.Generation:
		reason = fmt.Sprintf("generation changed from %d to %d", st.LastAttemptedGeneration, obj.Generation)
	case st.LastAttemptedRevision != chartVersion:
		reason = fmt.Sprintf("chart version changed from %q to %q", st.LastAttemptedRevision, chartVersion)
	case st.LastAttemptedConfigDigest != valuesDigest:
		reason = "values changed"
	}
	if reason != "" {
		st.Failures, st.InstallFailures, st.UpgradeFailures = 0, 0, 0
	}
	st.LastAttemptedGeneration = obj.Generation
	st.LastAttemptedRevision = chartVersion
	st.LastAttemptedConfigDigest = valuesDigest
	st.LastAttemptedValuesChecksum = ""
	st.LastReleaseRevision = 0
	return reason
}

// TargetChanged tells whether the release recorded in status.history was made under
// another storage namespace, target namespace or release name, or (with the Reinstall
// chart name change strategy) for a chart of another name. That release has to be
// uninstalled (from status.storageNamespace) before the new one is installed; the history
// is then cleared. It returns the reason, or "".
func TargetChanged(obj *v2.HelmRelease, chartName string) string {
	cur := obj.Status.History.Latest()
	if cur == nil || obj.Status.StorageNamespace == "" {
		return ""
	}
	switch {
	case obj.Status.StorageNamespace != obj.GetStorageNamespace():
		return fmt.Sprintf("storage namespace changed from %q to %q", obj.Status.StorageNamespace, obj.GetStorageNamespace())
	case cur.Namespace != obj.GetReleaseNamespace():
		return fmt.Sprintf("target namespace changed from %q to %q", cur.Namespace, obj.GetReleaseNamespace())
	case cur.Name != obj.GetReleaseName():
		return fmt.Sprintf("release name changed from %q to %q", cur.Name, obj.GetReleaseName())
	case cur.ChartName != chartName && obj.GetUpgrade().GetChartNameChangeStrategy() == v2.ChartNameChangeStrategyReinstall:
		return fmt.Sprintf("chart name changed from %q to %q", cur.ChartName, chartName)
	}
	return ""
}
