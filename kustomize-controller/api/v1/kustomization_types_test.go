package v1

import (
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func duration(d time.Duration) *metav1.Duration {
	return &metav1.Duration{Duration: d}
}

func TestKustomizationGetTimeout(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		timeout  *metav1.Duration
		want     time.Duration
	}{
		{name: "unset timeout uses interval minus margin", interval: 10 * time.Minute, want: 9*time.Minute + 30*time.Second},
		{name: "unset timeout with short interval is floored", interval: 45 * time.Second, want: 30 * time.Second},
		{name: "unset timeout with zero interval is floored", want: 30 * time.Second},
		{name: "explicit timeout wins", interval: 10 * time.Minute, timeout: duration(2 * time.Minute), want: 2 * time.Minute},
		{name: "explicit timeout longer than interval", interval: time.Minute, timeout: duration(5 * time.Minute), want: 5 * time.Minute},
		{name: "explicit short timeout is floored", interval: 10 * time.Minute, timeout: duration(5 * time.Second), want: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := &Kustomization{Spec: KustomizationSpec{
				Interval: metav1.Duration{Duration: tt.interval},
				Timeout:  tt.timeout,
			}}
			if got := ks.GetTimeout(); got != tt.want {
				t.Errorf("GetTimeout() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKustomizationGetRetryInterval(t *testing.T) {
	tests := []struct {
		name  string
		retry *metav1.Duration
		want  time.Duration
	}{
		{name: "falls back to interval", want: 5 * time.Minute},
		{name: "uses retryInterval when set", retry: duration(time.Minute), want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := &Kustomization{Spec: KustomizationSpec{
				Interval:      metav1.Duration{Duration: 5 * time.Minute},
				RetryInterval: tt.retry,
			}}
			if got := ks.GetRetryInterval(); got != tt.want {
				t.Errorf("GetRetryInterval() = %v, want %v", got, tt.want)
			}
			if got := ks.GetRequeueAfter(); got != 5*time.Minute {
				t.Errorf("GetRequeueAfter() = %v, want 5m", got)
			}
		})
	}
}

func TestKustomizationGetDeletionPolicy(t *testing.T) {
	tests := []struct {
		policy string
		want   string
	}{
		{policy: "", want: DeletionPolicyMirrorPrune},
		{policy: DeletionPolicyDelete, want: DeletionPolicyDelete},
		{policy: DeletionPolicyWaitForTermination, want: DeletionPolicyWaitForTermination},
		{policy: DeletionPolicyOrphan, want: DeletionPolicyOrphan},
	}
	for _, tt := range tests {
		t.Run("policy="+tt.policy, func(t *testing.T) {
			ks := &Kustomization{Spec: KustomizationSpec{DeletionPolicy: tt.policy}}
			if got := ks.GetDeletionPolicy(); got != tt.want {
				t.Errorf("GetDeletionPolicy() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKustomizationStatusAccessors(t *testing.T) {
	ks := &Kustomization{Spec: KustomizationSpec{
		Suspend:   true,
		DependsOn: []meta.DependencyReference{{Name: "infra", Namespace: "flux-system"}},
	}}
	conds := []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: ReconciliationSucceededReason}}
	ks.SetConditions(conds)
	ks.SetObservedGeneration(3)
	ks.SetLastHandledReconcileRequest("2024-01-01T00:00:00Z")

	if got := ks.GetConditions(); len(got) != 1 || got[0].Reason != ReconciliationSucceededReason {
		t.Errorf("GetConditions() = %v", got)
	}
	if got := ks.GetObservedGeneration(); got != 3 {
		t.Errorf("GetObservedGeneration() = %d, want 3", got)
	}
	if got := ks.GetLastHandledReconcileRequest(); got != "2024-01-01T00:00:00Z" {
		t.Errorf("GetLastHandledReconcileRequest() = %q", got)
	}
	if !ks.IsSuspended() {
		t.Error("IsSuspended() = false, want true")
	}
	if got := ks.GetDependsOn(); len(got) != 1 || got[0].String() != "flux-system/infra" {
		t.Errorf("GetDependsOn() = %v", got)
	}
}

func TestCrossNamespaceSourceReferenceString(t *testing.T) {
	tests := []struct {
		ref  CrossNamespaceSourceReference
		want string
	}{
		{ref: CrossNamespaceSourceReference{Kind: "GitRepository", Name: "app"}, want: "GitRepository/app"},
		{ref: CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "app", Namespace: "flux-system"}, want: "OCIRepository/flux-system/app"},
	}
	for _, tt := range tests {
		if got := tt.ref.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
