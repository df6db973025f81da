package release

import (
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	helmtime "helm.sh/helm/v3/pkg/time"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
)

// rec builds a release record of release "app" in namespace "apps".
func rec(version int, status release.Status, chartVersion string, values map[string]interface{}) *release.Release {
	t := helmtime.Unix(1700000000+int64(version), 0).UTC()
	return &release.Release{
		Name:      "app",
		Namespace: "apps",
		Version:   version,
		Info:      &release.Info{Status: status, FirstDeployed: t, LastDeployed: t},
		Chart:     &chart.Chart{Metadata: &chart.Metadata{Name: "podinfo", Version: chartVersion, AppVersion: "6.0.0"}},
		Config:    values,
	}
}

// snap is the history entry of r.
func snap(r *release.Release) *v2.Snapshot { return Snapshot(r, "") }

// tested marks s as tested with one test hook in phase.
func tested(s *v2.Snapshot, phase string) *v2.Snapshot {
	now := metav1.Now()
	s.SetTestHooks(map[string]*v2.TestHookStatus{"app-test": {LastStarted: &now, LastCompleted: &now, Phase: phase}})
	return s
}

var (
	vals     = map[string]interface{}{"replicaCount": 1}
	valsDig  = ValuesDigest(vals)
	desired1 = Desired{ChartName: "podinfo", ChartVersion: "1.0.0", ValuesDigest: valsDig}
	desired2 = Desired{ChartName: "podinfo", ChartVersion: "2.0.0", ValuesDigest: valsDig}
)

// hr is a HelmRelease "app" in "apps" releasing "app"; mutate adjusts it.
func hr(mutate ...func(*v2.HelmRelease)) *v2.HelmRelease {
	obj := &v2.HelmRelease{}
	obj.Name, obj.Namespace, obj.Generation = "app", "apps", 1
	obj.Status.StorageNamespace = "apps"
	for _, m := range mutate {
		m(obj)
	}
	return obj
}

func withHistory(s ...*v2.Snapshot) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) { o.Status.History = s }
}

func withTests(ignore bool) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) { o.Spec.Test = &v2.Test{Enable: true, IgnoreFailures: ignore} }
}

func lastAttempt(a v2.ReleaseAction, installFailures, upgradeFailures int64) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) {
		o.Status.LastAttemptedReleaseAction = a
		o.Status.InstallFailures, o.Status.UpgradeFailures = installFailures, upgradeFailures
		o.Status.Failures = installFailures + upgradeFailures
	}
}

func installRemediation(retries int, remediateLast bool) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) {
		o.Spec.Install = &v2.Install{Remediation: &v2.InstallRemediation{Retries: retries, RemediateLastFailure: &remediateLast}}
	}
}

func upgradeRemediation(retries int, strategy v2.RemediationStrategy) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) {
		o.Spec.Upgrade = &v2.Upgrade{Remediation: &v2.UpgradeRemediation{Retries: retries, Strategy: &strategy}}
	}
}

func retryStrategy(install bool) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) {
		s := &v2.InstallStrategy{Name: v2.ActionStrategyRetryOnFailure}
		if install {
			o.Spec.Install = &v2.Install{Strategy: s}
			return
		}
		o.Spec.Upgrade = &v2.Upgrade{Strategy: &v2.UpgradeStrategy{Name: v2.ActionStrategyRetryOnFailure, RetryInterval: &metav1.Duration{Duration: 42e9}}}
	}
}

func driftMode(m v2.DriftDetectionMode) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) { o.Spec.DriftDetection = &v2.DriftDetection{Mode: m} }
}
