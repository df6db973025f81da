package v1

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestImageUpdateAutomationGetters(t *testing.T) {
	tests := []struct {
		name         string
		obj          ImageUpdateAutomation
		wantRequeue  time.Duration
		wantStrategy UpdateStrategy
		wantSourceNS string
		wantSuspend  bool
	}{
		{
			name: "defaults",
			obj: ImageUpdateAutomation{
				ObjectMeta: metav1.ObjectMeta{Namespace: "apps"},
				Spec:       ImageUpdateAutomationSpec{Interval: metav1.Duration{Duration: 5 * time.Minute}},
			},
			wantRequeue:  5 * time.Minute,
			wantStrategy: UpdateStrategy{Strategy: UpdateStrategySetters},
			wantSourceNS: "apps",
		},
		{
			name: "update with only a path gets the Setters strategy",
			obj: ImageUpdateAutomation{
				ObjectMeta: metav1.ObjectMeta{Namespace: "apps"},
				Spec: ImageUpdateAutomationSpec{
					Interval:  metav1.Duration{Duration: time.Minute},
					Update:    &UpdateStrategy{Path: "./clusters/prod"},
					SourceRef: CrossNamespaceSourceReference{Kind: GitRepositoryKind, Name: "repo", Namespace: "flux-system"},
					Suspend:   true,
				},
			},
			wantRequeue:  time.Minute,
			wantStrategy: UpdateStrategy{Strategy: UpdateStrategySetters, Path: "./clusters/prod"},
			wantSourceNS: "flux-system",
			wantSuspend:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := tt.obj
			if got := obj.GetRequeueAfter(); got != tt.wantRequeue {
				t.Errorf("GetRequeueAfter() = %v, want %v", got, tt.wantRequeue)
			}
			if got := obj.GetUpdateStrategy(); got != tt.wantStrategy {
				t.Errorf("GetUpdateStrategy() = %+v, want %+v", got, tt.wantStrategy)
			}
			if got := obj.GetSourceNamespace(); got != tt.wantSourceNS {
				t.Errorf("GetSourceNamespace() = %q, want %q", got, tt.wantSourceNS)
			}
			if got := obj.IsSuspended(); got != tt.wantSuspend {
				t.Errorf("IsSuspended() = %v, want %v", got, tt.wantSuspend)
			}
		})
	}
}

func TestImageUpdateAutomationStatusAccessors(t *testing.T) {
	obj := &ImageUpdateAutomation{}
	conds := []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse}}
	obj.SetConditions(conds)
	obj.SetObservedGeneration(7)
	obj.SetLastHandledReconcileRequest("now")
	if !reflect.DeepEqual(obj.GetConditions(), conds) {
		t.Errorf("GetConditions() = %v, want %v", obj.GetConditions(), conds)
	}
	if obj.GetObservedGeneration() != 7 {
		t.Errorf("GetObservedGeneration() = %d, want 7", obj.GetObservedGeneration())
	}
	if obj.GetLastHandledReconcileRequest() != "now" {
		t.Errorf("GetLastHandledReconcileRequest() = %q, want now", obj.GetLastHandledReconcileRequest())
	}
}

func TestStringers(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{ImageRef{Name: "nginx", Tag: "1.27"}.String(), "nginx:1.27"},
		{ImageRef{Name: "nginx", Tag: "1.27", Digest: "sha256:0f"}.String(), "nginx:1.27@sha256:0f"},
		{CrossNamespaceSourceReference{Kind: GitRepositoryKind, Name: "repo"}.String(), "GitRepository/repo"},
		{CrossNamespaceSourceReference{Kind: GitRepositoryKind, Name: "repo", Namespace: "ns"}.String(), "GitRepository/ns/repo"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
