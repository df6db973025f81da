package app

import (
	"testing"

	kubepkg "gotk.dev/cli/pkg/kube"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestKubernetesVersionOK(t *testing.T) {
	tests := []struct {
		gitVersion string
		ok, err    bool
	}{
		{"v1.37.1", true, false},
		{"v1.33.0", true, false},
		{"v1.33.2+k3s1", true, false},
		{"v1.33.0-rc.1", true, false}, // >=1.33.0-0 admits pre-releases of the minimum
		{"v1.32.9", false, false},
		{"v1.32.10-eks-1234", false, false},
		{"v0.0.0-master+$Format:%H$", false, true}, // an unversioned build: refused, with the reason
		{"not-a-version", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.gitVersion, func(t *testing.T) {
			ok, _, err := kubernetesVersionOK(tt.gitVersion)
			if ok != tt.ok || (err != nil) != tt.err {
				t.Fatalf("got %v, %v; want ok=%v err=%v", ok, err, tt.ok, tt.err)
			}
		})
	}
}

func TestDeploymentReady(t *testing.T) {
	dep := func(gen, observed int64, replicas, updated, total, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Generation: gen},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(replicas)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, UpdatedReplicas: updated,
				Replicas: total, AvailableReplicas: available},
		}
	}
	tests := []struct {
		name   string
		d      *appsv1.Deployment
		ready  bool
		reason string
	}{
		{"ready", dep(2, 2, 1, 1, 1, 1), true, "deployment ready"},
		{"new spec not observed", dep(3, 2, 1, 1, 1, 1), false, "rollout not started yet"},
		{"updating", dep(2, 2, 2, 1, 2, 2), false, "1 of 2 replicas updated"},
		{"old replica left", dep(2, 2, 1, 1, 2, 1), false, "1 old replicas pending termination"},
		{"not available", dep(2, 2, 1, 1, 1, 0), false, "0 of 1 replicas available"},
		{"scaled to zero", dep(1, 1, 0, 0, 0, 0), true, "deployment ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready, reason := kubepkg.DeploymentReady(tt.d)
			if ready != tt.ready || reason != tt.reason {
				t.Fatalf("got %v %q, want %v %q", ready, reason, tt.ready, tt.reason)
			}
		})
	}
}
