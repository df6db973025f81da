package release

import (
	"testing"

	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
)

func TestDetermineState(t *testing.T) {
	v1 := rec(1, release.StatusDeployed, "1.0.0", vals)
	v1superseded := rec(1, release.StatusSuperseded, "1.0.0", vals)
	v2rec := rec(2, release.StatusDeployed, "2.0.0", vals)
	v2failed := rec(2, release.StatusFailed, "2.0.0", vals)
	edited := rec(1, release.StatusDeployed, "1.0.0", vals)
	edited.Info.Description = "edited by hand"

	tests := []struct {
		name    string
		obj     *v2.HelmRelease
		desired Desired
		records []*release.Release
		want    Status
	}{
		{"no release", hr(), desired1, nil, Absent},
		{"pending install", hr(), desired1, []*release.Release{rec(1, release.StatusPendingInstall, "1.0.0", vals)}, Locked},
		{"pending upgrade over history", hr(withHistory(snap(v1))), desired2, []*release.Release{v1superseded, rec(2, release.StatusPendingUpgrade, "2.0.0", vals)}, Locked},
		{"pending rollback", hr(withHistory(snap(v1))), desired1, []*release.Release{rec(2, release.StatusPendingRollback, "1.0.0", vals)}, Locked},
		{"uninstalling", hr(withHistory(snap(v1))), desired1, []*release.Release{rec(1, release.StatusUninstalling, "1.0.0", vals)}, Locked},
		{"uninstalled, no history", hr(), desired1, []*release.Release{rec(1, release.StatusUninstalled, "1.0.0", vals)}, Absent},
		{"existing release not made by the HelmRelease", hr(), desired1, []*release.Release{v1}, Unmanaged},
		{"out-of-band helm upgrade", hr(withHistory(snap(v1))), desired1, []*release.Release{v1superseded, v2rec}, Unmanaged},
		{"out-of-band edit of the record", hr(withHistory(snap(v1))), desired1, []*release.Release{edited}, Unmanaged},
		{"failed", hr(withHistory(snap(v2failed), snap(v1superseded))), desired2, []*release.Release{v1superseded, v2failed}, Failed},
		{"uninstalled with kept history", hr(withHistory(snap(rec(1, release.StatusUninstalled, "1.0.0", vals)))), desired1, []*release.Release{rec(1, release.StatusUninstalled, "1.0.0", vals)}, Absent},
		{"superseded latest", hr(withHistory(snap(v1superseded))), desired1, []*release.Release{v1superseded}, Unknown},
		{"in sync", hr(withHistory(snap(v1))), desired1, []*release.Release{v1}, InSync},
		{"chart changed", hr(withHistory(snap(v1))), desired2, []*release.Release{v1}, OutOfSync},
		{"values changed", hr(withHistory(snap(v1))), Desired{ChartName: "podinfo", ChartVersion: "1.0.0", ValuesDigest: ValuesDigest(map[string]interface{}{"replicaCount": 2})}, []*release.Release{v1}, OutOfSync},
		{"chart renamed", hr(withHistory(snap(v1))), Desired{ChartName: "other", ChartVersion: "1.0.0", ValuesDigest: valsDig}, []*release.Release{v1}, OutOfSync},
		{"post-renderers changed", hr(withHistory(snap(v1)), func(o *v2.HelmRelease) {
			o.Status.ObservedPostRenderersDigest = ObjectDigest(o.Spec.PostRenderers)
			o.Spec.PostRenderers = []v2.PostRenderer{{Kustomize: &v2.Kustomize{}}}
		}), desired1, []*release.Release{v1}, OutOfSync},
		{"common metadata changed", hr(withHistory(snap(v1)), func(o *v2.HelmRelease) {
			o.Status.ObservedCommonMetadataDigest = ObjectDigest(o.Spec.CommonMetadata)
			o.Spec.CommonMetadata = &v2.CommonMetadata{Labels: map[string]string{"a": "b"}}
		}), desired1, []*release.Release{v1}, OutOfSync},
		{"unchanged post-renderers and metadata", hr(withHistory(snap(v1)), func(o *v2.HelmRelease) {
			o.Spec.CommonMetadata = &v2.CommonMetadata{Labels: map[string]string{"a": "b"}}
			o.Status.ObservedPostRenderersDigest = ObjectDigest(o.Spec.PostRenderers)
			o.Status.ObservedCommonMetadataDigest = ObjectDigest(o.Spec.CommonMetadata)
		}), desired1, []*release.Release{v1}, InSync},
		{"tests enabled, not run", hr(withTests(false), withHistory(snap(v1))), desired1, []*release.Release{v1}, Untested},
		{"tests passed", hr(withTests(false), withHistory(tested(snap(v1), "Succeeded"))), desired1, []*release.Release{v1}, InSync},
		{"test failed after install", hr(withTests(false), lastAttempt(v2.ReleaseActionInstall, 0, 0), withHistory(tested(snap(v1), "Failed"))), desired1, []*release.Release{v1}, Failed},
		{"test failure ignored", hr(withTests(true), lastAttempt(v2.ReleaseActionInstall, 0, 0), withHistory(tested(snap(v1), "Failed"))), desired1, []*release.Release{v1}, InSync},
		{"test failure ignored by upgrade remediation", hr(withTests(false), lastAttempt(v2.ReleaseActionUpgrade, 0, 0), func(o *v2.HelmRelease) {
			ignore := true
			o.Spec.Upgrade = &v2.Upgrade{Remediation: &v2.UpgradeRemediation{IgnoreTestFailures: &ignore}}
		}, withHistory(tested(snap(v1), "Failed"))), desired1, []*release.Release{v1}, InSync},
		{"test failed, nothing attempted yet", hr(withTests(false), withHistory(tested(snap(v1), "Failed"))), desired1, []*release.Release{v1}, InSync},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DetermineState(tt.obj, tt.desired, tt.records)
			if got.Status != tt.want {
				t.Fatalf("state = %s (%s, %v), want %s", got.Status, got.Reason, got.Err, tt.want)
			}
			if got.Status == Unknown && got.Err == nil {
				t.Error("Unknown state without an error")
			}
		})
	}
}

func TestWithDrift(t *testing.T) {
	if s := WithDrift(State{Status: InSync}, true, "Deployment/apps/app changed"); s.Status != Drifted || s.Reason == "" {
		t.Errorf("in-sync release with drift: %+v", s)
	}
	if s := WithDrift(State{Status: InSync}, false, ""); s.Status != InSync {
		t.Errorf("no drift: %+v", s)
	}
	if s := WithDrift(State{Status: OutOfSync}, true, "x"); s.Status != OutOfSync {
		t.Errorf("only in-sync releases drift: %+v", s)
	}
}
