package release

import (
	"testing"

	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
)

// The expected digests are the ones upstream reports for the same values, so a HelmRelease
// moved from upstream's controller is not upgraded for a mere digest difference.
func TestValuesDigest(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]interface{}
		want   string
	}{
		{"nil", nil, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"empty", map[string]interface{}{}, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"nested", map[string]interface{}{
			"replicas": 3,
			"image":    map[string]interface{}{"tag": "latest", "repository": "nginx"},
			"ports": []interface{}{
				map[string]interface{}{"protocol": "TCP", "port": 8080},
				map[string]interface{}{"port": 9090, "protocol": "UDP"},
			},
		}, "sha256:fcdc2b0de1581a3633ada4afee3f918f6eaa5b5ab38c3fef03d5b48d3f85d9f6"},
		{"numeric-looking keys sort as bytes", map[string]interface{}{
			"replicas": 3,
			"test": map[string]interface{}{
				"632bd82398e71231a98004b6": "value4", "632bd817c559818a52307da2": "value3",
				"632bd80ddf416cf32fd50679": "value2", "632bd80235a05f4192aefade": "value1",
			},
		}, "sha256:8a980fcbeadd6f05818f07e8aec14070c22250ca3d96af1fcd5f93b3e85b4d70"},
		{"JSON numbers digest like YAML integers", map[string]interface{}{
			"replicas": float64(3),
			"test": map[string]interface{}{
				"632bd80235a05f4192aefade": "value1", "632bd80ddf416cf32fd50679": "value2",
				"632bd817c559818a52307da2": "value3", "632bd82398e71231a98004b6": "value4",
			},
		}, "sha256:8a980fcbeadd6f05818f07e8aec14070c22250ca3d96af1fcd5f93b3e85b4d70"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValuesDigest(tt.values); got != tt.want {
				t.Errorf("ValuesDigest = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSnapshot(t *testing.T) {
	r := rec(3, release.StatusDeployed, "1.2.3+0cc9a8446c95", vals)
	s := Snapshot(r, "sha256:0cc9a8446c95")
	if s.Name != "app" || s.Namespace != "apps" || s.Version != 3 || s.Status != "deployed" ||
		s.ChartName != "podinfo" || s.ChartVersion != "1.2.3+0cc9a8446c95" || s.AppVersion != "6.0.0" ||
		s.ConfigDigest != valsDig || s.Digest != ReleaseDigest(r) || s.OCIDigest != "sha256:0cc9a8446c95" ||
		s.FirstDeployed.IsZero() || s.LastDeployed.IsZero() || s.Deleted != nil || s.HasBeenTested() {
		t.Fatalf("unexpected snapshot %+v", s)
	}
	if s.FullReleaseName() != "apps/app.v3" || s.VersionedChartName() != "podinfo@1.2.3+0cc9a8446c95" {
		t.Errorf("names: %s %s", s.FullReleaseName(), s.VersionedChartName())
	}
	r.Info.Description = "changed"
	if ReleaseDigest(r) == s.Digest {
		t.Error("the release digest must change with the record")
	}
}

func TestTestHooks(t *testing.T) {
	r := rec(1, release.StatusDeployed, "1.0.0", nil)
	r.Hooks = []*release.Hook{
		{Name: "ran", Events: []release.HookEvent{release.HookTest}, LastRun: release.HookExecution{StartedAt: r.Info.LastDeployed, CompletedAt: r.Info.LastDeployed, Phase: release.HookPhaseFailed}},
		{Name: "never-ran", Events: []release.HookEvent{release.HookTest}},
		{Name: "pre-install", Events: []release.HookEvent{release.HookPreInstall}},
	}
	h := TestHooks(r)
	if len(h) != 2 || h["ran"].Phase != "Failed" || h["ran"].LastStarted == nil || h["never-ran"].Phase != "" || h["never-ran"].LastStarted != nil {
		t.Fatalf("unexpected test hooks %+v", h)
	}
}

func TestHistory(t *testing.T) {
	s1 := snap(rec(1, release.StatusSuperseded, "1.0.0", vals))
	s2 := tested(snap(rec(2, release.StatusSuperseded, "2.0.0", vals)), "Failed")
	s3 := snap(rec(3, release.StatusFailed, "3.0.0", vals))
	h := v2.Snapshots{s3, s2, s1}

	if p := Previous(h, false); p != s1 {
		t.Errorf("previous without failed tests = %v, want v1", p.FullReleaseName())
	}
	if p := Previous(h, true); p != s2 {
		t.Errorf("previous ignoring tests = %v, want v2", p.FullReleaseName())
	}
	if got := Truncate(append(v2.Snapshots{}, h...), true); len(got) != 2 {
		t.Errorf("truncate ignoring tests kept %d entries, want 2", len(got))
	}
	if got := Truncate(append(v2.Snapshots{}, h...), false); len(got) != 3 {
		t.Errorf("truncate kept %d entries, want 3", len(got))
	}

	// Record replaces the entry of the same version, keeping the test results, and adds
	// new versions newest first.
	s2again := snap(rec(2, release.StatusSuperseded, "2.0.0", vals))
	h = Record(h, s2again)
	if h[1] != s2again || !h[1].HasBeenTested() {
		t.Errorf("record did not replace v2 keeping its tests: %+v", h[1])
	}
	s4 := snap(rec(4, release.StatusDeployed, "4.0.0", vals))
	h = Record(h, s4)
	if h.Latest() != s4 || len(h) != 4 {
		t.Errorf("record did not prepend v4")
	}
}

func TestPrepareAttempt(t *testing.T) {
	base := func() *v2.HelmRelease {
		o := hr(lastAttempt(v2.ReleaseActionUpgrade, 1, 2))
		o.Status.LastAttemptedGeneration, o.Status.LastAttemptedRevision, o.Status.LastAttemptedConfigDigest = 1, "1.0.0", valsDig
		return o
	}
	tests := []struct {
		name   string
		mutate func(*v2.HelmRelease)
		chart  string
		digest string
		reset  bool
		want   bool
	}{
		{"unchanged", nil, "1.0.0", valsDig, false, false},
		{"reset requested", nil, "1.0.0", valsDig, true, true},
		{"generation", func(o *v2.HelmRelease) { o.Generation = 2 }, "1.0.0", valsDig, false, true},
		{"chart version", nil, "1.0.1", valsDig, false, true},
		{"values", nil, "1.0.0", ValuesDigest(nil), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			if tt.mutate != nil {
				tt.mutate(o)
			}
			reason := PrepareAttempt(o, tt.chart, tt.digest, tt.reset)
			if (reason != "") != tt.want {
				t.Fatalf("reset reason %q, want reset=%v", reason, tt.want)
			}
			zeroed := o.Status.Failures == 0 && o.Status.InstallFailures == 0 && o.Status.UpgradeFailures == 0
			if zeroed != tt.want {
				t.Errorf("counters %d/%d/%d after reset=%v", o.Status.Failures, o.Status.InstallFailures, o.Status.UpgradeFailures, tt.want)
			}
			if o.Status.LastAttemptedRevision != tt.chart || o.Status.LastAttemptedConfigDigest != tt.digest || o.Status.LastAttemptedGeneration != o.Generation {
				t.Errorf("last attempted state not recorded: %+v", o.Status)
			}
		})
	}
}

func TestTargetChanged(t *testing.T) {
	installed := withHistory(snap(rec(1, release.StatusDeployed, "1.0.0", vals)))
	tests := []struct {
		name   string
		obj    *v2.HelmRelease
		chart  string
		change bool
	}{
		{"never installed", hr(), "podinfo", false},
		{"same target", hr(installed), "podinfo", false},
		{"storage namespace", hr(installed, func(o *v2.HelmRelease) { o.Spec.StorageNamespace = "other" }), "podinfo", true},
		{"target namespace", hr(installed, func(o *v2.HelmRelease) { o.Spec.TargetNamespace = "other"; o.Spec.ReleaseName = "app" }), "podinfo", true},
		{"release name", hr(installed, func(o *v2.HelmRelease) { o.Spec.ReleaseName = "renamed" }), "podinfo", true},
		{"chart name, reinstall", hr(installed), "other", true},
		{"chart name, in place", hr(installed, func(o *v2.HelmRelease) {
			o.Spec.Upgrade = &v2.Upgrade{ChartNameChangeStrategy: v2.ChartNameChangeStrategyInPlaceUpdate}
		}), "other", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TargetChanged(tt.obj, tt.chart); (got != "") != tt.change {
				t.Errorf("TargetChanged = %q, want change=%v", got, tt.change)
			}
		})
	}
}
