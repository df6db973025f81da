package v1

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// timedSource is the method set shared by the source kinds with spec.timeout.
type timedSource interface {
	Source
	GetTimeout() time.Duration
	IsSuspended() bool
}

func TestGetTimeout(t *testing.T) {
	tests := []struct {
		name string
		obj  timedSource
		want time.Duration
	}{
		{"git unset", &GitRepository{}, 60 * time.Second},
		{"git set", &GitRepository{Spec: GitRepositorySpec{Timeout: dur(2 * time.Minute)}}, 2 * time.Minute},
		{"oci unset", &OCIRepository{}, 60 * time.Second},
		{"oci set", &OCIRepository{Spec: OCIRepositorySpec{Timeout: dur(5 * time.Second)}}, 5 * time.Second},
		{"helmrepo unset", &HelmRepository{}, 60 * time.Second},
		{"helmrepo set", &HelmRepository{Spec: HelmRepositorySpec{Timeout: dur(90 * time.Second)}}, 90 * time.Second},
		{"bucket unset", &Bucket{}, 60 * time.Second},
		{"bucket set", &Bucket{Spec: BucketSpec{Timeout: dur(time.Second)}}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.obj.GetTimeout(); got != tt.want {
				t.Errorf("GetTimeout() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGetRequeueAfterAndArtifact(t *testing.T) {
	interval := metav1.Duration{Duration: 5 * time.Minute}
	art := &meta.Artifact{Revision: "main@sha1:abc"}
	tests := []struct {
		name string
		obj  Source
		want time.Duration
	}{
		{"git", &GitRepository{Spec: GitRepositorySpec{Interval: interval}, Status: GitRepositoryStatus{Artifact: art}}, 5 * time.Minute},
		{"oci", &OCIRepository{Spec: OCIRepositorySpec{Interval: interval}, Status: OCIRepositoryStatus{Artifact: art}}, 5 * time.Minute},
		{"helmrepo", &HelmRepository{Spec: HelmRepositorySpec{Interval: interval}, Status: HelmRepositoryStatus{Artifact: art}}, 5 * time.Minute},
		{"helmchart", &HelmChart{Spec: HelmChartSpec{Interval: interval}, Status: HelmChartStatus{Artifact: art}}, 5 * time.Minute},
		{"bucket", &Bucket{Spec: BucketSpec{Interval: interval}, Status: BucketStatus{Artifact: art}}, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.obj.GetRequeueAfter(); got != tt.want {
				t.Errorf("GetRequeueAfter() = %v, want %v", got, tt.want)
			}
			if got := tt.obj.GetArtifact(); got != art {
				t.Errorf("GetArtifact() = %v, want %v", got, art)
			}
		})
	}
}

// statusAccessor is the status method set every kind of the group has.
type statusAccessor interface {
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	GetObservedGeneration() int64
	SetObservedGeneration(int64)
	GetLastHandledReconcileRequest() string
	SetLastHandledReconcileRequest(string)
}

func TestStatusAccessors(t *testing.T) {
	objs := map[string]statusAccessor{
		"git":       &GitRepository{},
		"oci":       &OCIRepository{},
		"helmrepo":  &HelmRepository{},
		"helmchart": &HelmChart{},
		"bucket":    &Bucket{},
	}
	for name, obj := range objs {
		t.Run(name, func(t *testing.T) {
			conds := []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue}}
			obj.SetConditions(conds)
			if got := obj.GetConditions(); len(got) != 1 || got[0].Type != meta.ReadyCondition {
				t.Errorf("GetConditions() = %v", got)
			}
			obj.SetObservedGeneration(7)
			if got := obj.GetObservedGeneration(); got != 7 {
				t.Errorf("GetObservedGeneration() = %d, want 7", got)
			}
			obj.SetLastHandledReconcileRequest("token")
			if got := obj.GetLastHandledReconcileRequest(); got != "token" {
				t.Errorf("GetLastHandledReconcileRequest() = %q, want token", got)
			}
		})
	}
}

func TestKindDefaults(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"git provider", (&GitRepository{}).GetProvider(), GitProviderGeneric},
		{"git provider set", (&GitRepository{Spec: GitRepositorySpec{Provider: GitProviderAzure}}).GetProvider(), "azure"},
		{"oci provider", (&OCIRepository{}).GetProvider(), "generic"},
		{"oci layer operation", (&OCIRepository{}).GetLayerOperation(), OCILayerExtract},
		{"oci layer operation set", (&OCIRepository{Spec: OCIRepositorySpec{LayerSelector: &OCILayerSelector{Operation: OCILayerCopy}}}).GetLayerOperation(), "copy"},
		{"oci layer media type", (&OCIRepository{}).GetLayerMediaType(), ""},
		{"helmrepo type", (&HelmRepository{}).GetType(), HelmRepositoryTypeDefault},
		{"helmrepo type oci", (&HelmRepository{Spec: HelmRepositorySpec{Type: "oci"}}).GetType(), "oci"},
		{"helmrepo provider", (&HelmRepository{}).GetProvider(), "generic"},
		{"helmchart version", (&HelmChart{}).GetVersion(), "*"},
		{"helmchart version set", (&HelmChart{Spec: HelmChartSpec{Version: "1.x"}}).GetVersion(), "1.x"},
		{"helmchart strategy", (&HelmChart{}).GetReconcileStrategy(), ReconcileStrategyChartVersion},
		{"bucket provider", (&Bucket{}).GetProvider(), BucketProviderGeneric},
		{"include to path", (&GitRepositoryInclude{GitRepositoryRef: meta.LocalObjectReference{Name: "repo"}}).GetToPath(), "repo"},
		{"include to path set", (&GitRepositoryInclude{GitRepositoryRef: meta.LocalObjectReference{Name: "repo"}, ToPath: "x"}).GetToPath(), "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestGitVerificationMode(t *testing.T) {
	tests := []struct {
		mode      GitVerificationMode
		want      GitVerificationMode
		head, tag bool
	}{
		{"", ModeGitHEAD, true, false},
		{"head", ModeGitHEAD, true, false},
		{"HEAD", ModeGitHEAD, true, false},
		{"Tag", ModeGitTag, false, true},
		{"TagAndHEAD", ModeGitTagAndHEAD, true, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			v := &GitRepositoryVerification{Mode: tt.mode}
			if got := v.GetMode(); got != tt.want {
				t.Errorf("GetMode() = %q, want %q", got, tt.want)
			}
			if v.VerifyHEAD() != tt.head || v.VerifyTag() != tt.tag {
				t.Errorf("VerifyHEAD/VerifyTag = %v/%v, want %v/%v", v.VerifyHEAD(), v.VerifyTag(), tt.head, tt.tag)
			}
		})
	}
}

func TestSuspend(t *testing.T) {
	if !(&GitRepository{Spec: GitRepositorySpec{Suspend: true}}).IsSuspended() {
		t.Error("GitRepository not suspended")
	}
	if (&HelmChart{}).IsSuspended() {
		t.Error("HelmChart suspended by default")
	}
}

func TestHelmRepositoryOmitsUnsetInterval(t *testing.T) {
	b, err := json.Marshal(&HelmRepository{Spec: HelmRepositorySpec{URL: "oci://example.com/charts", Type: HelmRepositoryTypeOCI}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "interval") {
		t.Errorf("unset interval serialised: %s", b)
	}
}
