/*
Copyright 2026 The gotk Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v2

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func newHR(name, namespace string, spec HelmReleaseSpec) *HelmRelease {
	return &HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       spec,
	}
}

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func ptr[T any](v T) *T { return &v }

func TestGetReleaseName(t *testing.T) {
	tests := []struct {
		name      string
		objName   string
		spec      HelmReleaseSpec
		want      string
		wantLen53 bool
	}{
		{name: "name only", objName: "podinfo", want: "podinfo"},
		{name: "target namespace prefix", objName: "podinfo", spec: HelmReleaseSpec{TargetNamespace: "apps"}, want: "apps-podinfo"},
		{name: "explicit release name wins", objName: "podinfo", spec: HelmReleaseSpec{ReleaseName: "custom", TargetNamespace: "apps"}, want: "custom"},
		{name: "exactly 53 characters kept", objName: strings.Repeat("a", 53), want: strings.Repeat("a", 53)},
		{
			// The composed name is 55 characters; SHA-256 of it starts with
			// 97af5d7f41f3.
			name:    "long composition shortened with hash",
			objName: "with-a-nice-object-name",
			spec:    HelmReleaseSpec{TargetNamespace: "a-very-lengthy-target-namespace"},
			want:    "a-very-lengthy-target-namespace-with-a-n-97af5d7f41f3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newHR(tt.objName, "default", tt.spec).GetReleaseName()
			if got != tt.want {
				t.Errorf("GetReleaseName() = %q, want %q", got, tt.want)
			}
			if len(got) > 53 {
				t.Errorf("GetReleaseName() is %d characters, want at most 53", len(got))
			}
		})
	}
}

func TestNamespaceGetters(t *testing.T) {
	tests := []struct {
		name        string
		spec        HelmReleaseSpec
		wantRelease string
		wantStorage string
	}{
		{name: "defaults to object namespace", wantRelease: "flux", wantStorage: "flux"},
		{name: "target namespace", spec: HelmReleaseSpec{TargetNamespace: "apps"}, wantRelease: "apps", wantStorage: "flux"},
		{name: "storage namespace", spec: HelmReleaseSpec{StorageNamespace: "store"}, wantRelease: "flux", wantStorage: "store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hr := newHR("podinfo", "flux", tt.spec)
			if got := hr.GetReleaseNamespace(); got != tt.wantRelease {
				t.Errorf("GetReleaseNamespace() = %q, want %q", got, tt.wantRelease)
			}
			if got := hr.GetStorageNamespace(); got != tt.wantStorage {
				t.Errorf("GetStorageNamespace() = %q, want %q", got, tt.wantStorage)
			}
			if got := hr.GetHelmChartName(); got != "flux-podinfo" {
				t.Errorf("GetHelmChartName() = %q, want flux-podinfo", got)
			}
		})
	}
}

func TestScalarDefaults(t *testing.T) {
	tests := []struct {
		name           string
		spec           HelmReleaseSpec
		wantTimeout    time.Duration
		wantHistory    int
		wantPersistent bool
		wantRequeue    time.Duration
	}{
		{name: "defaults", spec: HelmReleaseSpec{Interval: metav1.Duration{Duration: time.Minute}},
			wantTimeout: 5 * time.Minute, wantHistory: 5, wantPersistent: true, wantRequeue: time.Minute},
		{name: "explicit", spec: HelmReleaseSpec{Interval: metav1.Duration{Duration: time.Hour}, Timeout: dur(time.Second),
			MaxHistory: ptr(0), PersistentClient: ptr(false)},
			wantTimeout: time.Second, wantHistory: 0, wantPersistent: false, wantRequeue: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hr := newHR("a", "b", tt.spec)
			if got := hr.GetTimeout(); got != tt.wantTimeout {
				t.Errorf("GetTimeout() = %v, want %v", got, tt.wantTimeout)
			}
			if got := hr.GetMaxHistory(); got != tt.wantHistory {
				t.Errorf("GetMaxHistory() = %d, want %d", got, tt.wantHistory)
			}
			if got := hr.UsePersistentClient(); got != tt.wantPersistent {
				t.Errorf("UsePersistentClient() = %v, want %v", got, tt.wantPersistent)
			}
			if got := hr.GetRequeueAfter(); got != tt.wantRequeue {
				t.Errorf("GetRequeueAfter() = %v, want %v", got, tt.wantRequeue)
			}
		})
	}
}

func TestActionGettersNeverNil(t *testing.T) {
	hr := newHR("a", "b", HelmReleaseSpec{})
	if hr.GetInstall() == nil || hr.GetUpgrade() == nil || hr.GetTest() == nil ||
		hr.GetRollback() == nil || hr.GetUninstall() == nil || hr.GetDriftDetection() == nil {
		t.Fatal("action getters must never return nil")
	}
	if hr.GetTest().Enable {
		t.Error("tests must be disabled by default")
	}
	if got := hr.GetDriftDetection().GetMode(); got != DriftDetectionDisabled {
		t.Errorf("drift detection mode = %q, want disabled", got)
	}
	if hr.GetActiveRemediation() != nil {
		t.Error("GetActiveRemediation() must be nil before any release action")
	}
}

func TestActionTimeouts(t *testing.T) {
	const def = 5 * time.Minute
	set := dur(42 * time.Second)
	tests := []struct {
		name string
		get  func(HelmReleaseSpec) time.Duration
		spec HelmReleaseSpec
		want time.Duration
	}{
		{"install default", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetInstall().GetTimeout(def) }, HelmReleaseSpec{}, def},
		{"install set", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetInstall().GetTimeout(def) }, HelmReleaseSpec{Install: &Install{Timeout: set}}, set.Duration},
		{"upgrade default", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetUpgrade().GetTimeout(def) }, HelmReleaseSpec{}, def},
		{"upgrade set", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetUpgrade().GetTimeout(def) }, HelmReleaseSpec{Upgrade: &Upgrade{Timeout: set}}, set.Duration},
		{"test default", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetTest().GetTimeout(def) }, HelmReleaseSpec{}, def},
		{"test set", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetTest().GetTimeout(def) }, HelmReleaseSpec{Test: &Test{Timeout: set}}, set.Duration},
		{"rollback default", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetRollback().GetTimeout(def) }, HelmReleaseSpec{}, def},
		{"rollback set", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetRollback().GetTimeout(def) }, HelmReleaseSpec{Rollback: &Rollback{Timeout: set}}, set.Duration},
		{"uninstall default", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetUninstall().GetTimeout(def) }, HelmReleaseSpec{}, def},
		{"uninstall set", func(s HelmReleaseSpec) time.Duration { return newHR("a", "b", s).GetUninstall().GetTimeout(def) }, HelmReleaseSpec{Uninstall: &Uninstall{Timeout: set}}, set.Duration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.get(tt.spec); got != tt.want {
				t.Errorf("timeout = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestActionDefaults(t *testing.T) {
	var in Install
	if in.GetStrategyName() != ActionStrategyRemediateOnFailure || in.GetRetryInterval() != 5*time.Minute || in.GetCRDs() != Create {
		t.Errorf("unexpected install defaults: %q %v %q", in.GetStrategyName(), in.GetRetryInterval(), in.GetCRDs())
	}
	if got := (Install{SkipCRDs: true}).GetCRDs(); got != Skip {
		t.Errorf("deprecated skipCRDs: GetCRDs() = %q, want Skip", got)
	}
	in = Install{Strategy: &InstallStrategy{Name: ActionStrategyRetryOnFailure, RetryInterval: dur(time.Minute)}}
	if in.GetStrategyName() != ActionStrategyRetryOnFailure || in.GetRetryInterval() != time.Minute {
		t.Errorf("install strategy not returned: %q %v", in.GetStrategyName(), in.GetRetryInterval())
	}
	var up Upgrade
	if up.GetCRDs() != Skip || up.GetServerSideApply() != ServerSideApplyAuto ||
		up.GetChartNameChangeStrategy() != ChartNameChangeStrategyReinstall || up.GetRetryInterval() != 5*time.Minute {
		t.Errorf("unexpected upgrade defaults")
	}
	if (Rollback{}).GetServerSideApply() != ServerSideApplyAuto {
		t.Error("rollback server-side apply must default to auto")
	}
	if got := (Uninstall{}).GetDeletionPropagation(); got != DeletionPropagationBackground {
		t.Errorf("GetDeletionPropagation() = %q, want background", got)
	}
	if got := (Uninstall{DeletionPropagation: ptr("orphan")}).GetDeletionPropagation(); got != "orphan" {
		t.Errorf("GetDeletionPropagation() = %q, want orphan", got)
	}
}

func TestRemediation(t *testing.T) {
	tests := []struct {
		name              string
		r                 Remediation
		failures          int64
		wantExhausted     bool
		wantRemediateLast bool
		wantStrategy      RemediationStrategy
		wantIgnoreTests   bool
	}{
		{"install zero retries", InstallRemediation{}, 1, true, false, UninstallRemediationStrategy, true},
		{"install retries left", InstallRemediation{Retries: 3}, 3, false, false, UninstallRemediationStrategy, true},
		{"install unlimited", InstallRemediation{Retries: -1}, 100, false, false, UninstallRemediationStrategy, true},
		{"install explicit", InstallRemediation{RemediateLastFailure: ptr(true), IgnoreTestFailures: ptr(false)}, 0, false, true, UninstallRemediationStrategy, false},
		{"upgrade default", UpgradeRemediation{}, 0, false, false, RollbackRemediationStrategy, true},
		{"upgrade retries imply remediate last", UpgradeRemediation{Retries: 2}, 3, true, true, RollbackRemediationStrategy, true},
		{"upgrade explicit", UpgradeRemediation{Retries: 2, RemediateLastFailure: ptr(false), Strategy: ptr(UninstallRemediationStrategy)}, 2, false, false, UninstallRemediationStrategy, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.RetriesExhausted(tt.failures); got != tt.wantExhausted {
				t.Errorf("RetriesExhausted(%d) = %v, want %v", tt.failures, got, tt.wantExhausted)
			}
			if got := tt.r.MustRemediateLastFailure(); got != tt.wantRemediateLast {
				t.Errorf("MustRemediateLastFailure() = %v, want %v", got, tt.wantRemediateLast)
			}
			if got := tt.r.GetStrategy(); got != tt.wantStrategy {
				t.Errorf("GetStrategy() = %q, want %q", got, tt.wantStrategy)
			}
			if got := tt.r.MustIgnoreTestFailures(true); got != tt.wantIgnoreTests {
				t.Errorf("MustIgnoreTestFailures(true) = %v, want %v", got, tt.wantIgnoreTests)
			}
		})
	}
}

func TestGetActiveRemediation(t *testing.T) {
	hr := newHR("a", "b", HelmReleaseSpec{
		Install: &Install{Remediation: &InstallRemediation{Retries: 1}},
		Upgrade: &Upgrade{Remediation: &UpgradeRemediation{Retries: 2}},
	})
	hr.Status.LastAttemptedReleaseAction = ReleaseActionInstall
	if got := hr.GetActiveRemediation().GetRetries(); got != 1 {
		t.Errorf("install: GetRetries() = %d, want 1", got)
	}
	hr.Status.LastAttemptedReleaseAction = ReleaseActionUpgrade
	if got := hr.GetActiveRemediation().GetRetries(); got != 2 {
		t.Errorf("upgrade: GetRetries() = %d, want 2", got)
	}
}

func TestGetValues(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want map[string]interface{}
	}{
		{name: "unset", want: map[string]interface{}{}},
		{name: "object", raw: []byte(`{"replicaCount":2}`), want: map[string]interface{}{"replicaCount": float64(2)}},
		{name: "not an object", raw: []byte(`[1]`), want: map[string]interface{}{}},
		{name: "null", raw: []byte(`null`), want: map[string]interface{}{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := HelmReleaseSpec{}
			if tt.raw != nil {
				spec.Values = &apiextensionsv1.JSON{Raw: tt.raw}
			}
			if got := newHR("a", "b", spec).GetValues(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("GetValues() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStatusAccessors(t *testing.T) {
	hr := newHR("a", "b", HelmReleaseSpec{Suspend: true})
	hr.SetObservedGeneration(3)
	hr.SetLastHandledReconcileRequest("tok")
	hr.SetConditions([]metav1.Condition{{Type: ReleasedCondition}})
	*hr.GetLastHandledForceRequestStatus() = "force"
	*hr.GetLastHandledResetRequestStatus() = "reset"
	if hr.GetObservedGeneration() != 3 || hr.GetLastHandledReconcileRequest() != "tok" ||
		len(hr.GetConditions()) != 1 || !hr.IsSuspended() ||
		hr.Status.LastHandledForceAt != "force" || hr.Status.GetLastHandledResetRequest() != "reset" {
		t.Errorf("status accessors did not round-trip: %+v", hr.Status)
	}
	hr.Status.HelmChart = "flux-system/flux-system-podinfo"
	if ns, name := hr.Status.GetHelmChart(); ns != "flux-system" || name != "flux-system-podinfo" {
		t.Errorf("GetHelmChart() = %q, %q", ns, name)
	}
}

func TestSnapshots(t *testing.T) {
	var history Snapshots
	if history.Latest() != nil {
		t.Fatal("Latest() of empty history must be nil")
	}
	s := &Snapshot{Name: "podinfo", Namespace: "default", Version: 3, ChartName: "podinfo", ChartVersion: "6.5.3"}
	history = Snapshots{s, {Version: 2}}
	if history.Latest() != s {
		t.Fatal("Latest() must return the first snapshot")
	}
	if got := s.FullReleaseName(); got != "default/podinfo.v3" {
		t.Errorf("FullReleaseName() = %q", got)
	}
	if got := s.VersionedChartName(); got != "podinfo@6.5.3" {
		t.Errorf("VersionedChartName() = %q", got)
	}
	if s.HasBeenTested() {
		t.Error("untested snapshot reports tests")
	}
	s.SetTestHooks(nil)
	if !s.HasBeenTested() || len(s.GetTestHooks()) != 0 {
		t.Error("snapshot with empty test hooks must count as tested")
	}
	b, err := json.Marshal(s)
	if err != nil || !strings.Contains(string(b), `"testHooks":{}`) {
		t.Errorf("tested snapshot must keep an empty testHooks map on the wire: %s, %v", b, err)
	}
}

func TestSchemeRegistration(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	gvks, _, err := s.ObjectKinds(&HelmRelease{})
	if err != nil || len(gvks) != 1 || gvks[0].Kind != HelmReleaseKind || gvks[0].GroupVersion() != GroupVersion {
		t.Errorf("ObjectKinds() = %v, %v", gvks, err)
	}
}
