package v1

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func TestImageRepositoryGetTimeout(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		timeout  *metav1.Duration
		want     time.Duration
	}{
		{name: "unset falls back to interval", interval: 5 * time.Minute, want: 5 * time.Minute},
		{name: "zero falls back to interval", interval: time.Minute, timeout: dur(0), want: time.Minute},
		{name: "explicit timeout wins", interval: 5 * time.Minute, timeout: dur(30 * time.Second), want: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &ImageRepository{Spec: ImageRepositorySpec{
				Interval: metav1.Duration{Duration: tt.interval},
				Timeout:  tt.timeout,
			}}
			if got := obj.GetTimeout(); got != tt.want {
				t.Errorf("GetTimeout() = %v, want %v", got, tt.want)
			}
			if got := obj.GetRequeueAfter(); got != tt.interval {
				t.Errorf("GetRequeueAfter() = %v, want %v", got, tt.interval)
			}
		})
	}
}

func TestImageRepositoryDefaults(t *testing.T) {
	tests := []struct {
		name          string
		spec          ImageRepositorySpec
		wantProvider  string
		wantExclusion []string
	}{
		{name: "empty spec", wantProvider: GenericProvider, wantExclusion: []string{`^.*\.sig$`}},
		{
			name:          "explicit values",
			spec:          ImageRepositorySpec{Provider: AWSProvider, ExclusionList: []string{"^dev-"}},
			wantProvider:  AWSProvider,
			wantExclusion: []string{"^dev-"},
		},
		{
			name:          "explicitly empty exclusion list",
			spec:          ImageRepositorySpec{ExclusionList: []string{}},
			wantProvider:  GenericProvider,
			wantExclusion: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &ImageRepository{Spec: tt.spec}
			if got := obj.GetProvider(); got != tt.wantProvider {
				t.Errorf("GetProvider() = %q, want %q", got, tt.wantProvider)
			}
			if got := obj.GetExclusionList(); !reflect.DeepEqual(got, tt.wantExclusion) {
				t.Errorf("GetExclusionList() = %q, want %q", got, tt.wantExclusion)
			}
		})
	}
}

func TestImagePolicyInterval(t *testing.T) {
	tests := []struct {
		name       string
		policy     ReflectionPolicy
		interval   *metav1.Duration
		wantPolicy ReflectionPolicy
		want       time.Duration
	}{
		{name: "default policy never requeues", wantPolicy: ReflectNever, want: 0},
		{name: "IfNotPresent ignores interval", policy: ReflectIfNotPresent, interval: dur(time.Minute), wantPolicy: ReflectIfNotPresent, want: 0},
		{name: "Always without interval uses 10m", policy: ReflectAlways, wantPolicy: ReflectAlways, want: 10 * time.Minute},
		{name: "Always with interval", policy: ReflectAlways, interval: dur(time.Minute), wantPolicy: ReflectAlways, want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &ImagePolicy{Spec: ImagePolicySpec{DigestReflectionPolicy: tt.policy, Interval: tt.interval}}
			if got := obj.GetDigestReflectionPolicy(); got != tt.wantPolicy {
				t.Errorf("GetDigestReflectionPolicy() = %q, want %q", got, tt.wantPolicy)
			}
			if got := obj.GetInterval(); got != tt.want {
				t.Errorf("GetInterval() = %v, want %v", got, tt.want)
			}
			if got := obj.GetRequeueAfter(); got != tt.want {
				t.Errorf("GetRequeueAfter() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestImageRefString(t *testing.T) {
	tests := []struct {
		ref  ImageRef
		want string
	}{
		{ImageRef{Name: "ghcr.io/org/app", Tag: "1.0.0"}, "ghcr.io/org/app:1.0.0"},
		{ImageRef{Name: "ghcr.io/org/app", Tag: "1.0.0", Digest: "sha256:abc"}, "ghcr.io/org/app:1.0.0@sha256:abc"},
	}
	for _, tt := range tests {
		if got := tt.ref.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestStatusAccessors(t *testing.T) {
	type accessor interface {
		GetConditions() []metav1.Condition
		SetConditions([]metav1.Condition)
		GetObservedGeneration() int64
		SetObservedGeneration(int64)
		GetLastHandledReconcileRequest() string
		SetLastHandledReconcileRequest(string)
		IsSuspended() bool
	}
	conds := []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}
	for _, obj := range []accessor{&ImageRepository{}, &ImagePolicy{}} {
		obj.SetConditions(conds)
		obj.SetObservedGeneration(3)
		obj.SetLastHandledReconcileRequest("token")
		if !reflect.DeepEqual(obj.GetConditions(), conds) || obj.GetObservedGeneration() != 3 ||
			obj.GetLastHandledReconcileRequest() != "token" || obj.IsSuspended() {
			t.Errorf("%T: accessors do not round-trip", obj)
		}
	}
}
