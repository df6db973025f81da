// Package kubelet stands in for the nodes and the workload controllers of a test API server
// (envtest runs neither): it gives pods their final phase and marks Deployments rolled out,
// so code that waits for pods to finish (Helm hooks and tests) or for workloads to become
// ready (health checks) can be tested against a real API server.
package kubelet

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PhaseFunc returns the final phase a running kubelet would give pod (PodSucceeded or
// PodFailed), or "" to leave the pod alone.
type PhaseFunc func(pod *corev1.Pod) corev1.PodPhase

// Options say what the stand-in does.
type Options struct {
	// Pods, when set, finishes pods: every pod not yet Succeeded or Failed gets the phase
	// it returns.
	Pods PhaseFunc
	// Deployments, when set, rolls out every Deployment it returns true for: its status
	// becomes that of a Deployment whose replicas are all updated and available.
	Deployments func(d *appsv1.Deployment) bool
}

// Start works in the background until ctx ends, looking every 100ms.
func Start(ctx context.Context, c client.Client, o Options) {
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if o.Pods != nil {
				finishPods(ctx, c, o.Pods)
			}
			if o.Deployments != nil {
				rollOut(ctx, c, o.Deployments)
			}
		}
	}()
}

func finishPods(ctx context.Context, c client.Client, phase PhaseFunc) {
	var pods corev1.PodList
	if err := c.List(ctx, &pods); err != nil {
		return
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		p := phase(pod)
		if p == "" {
			continue
		}
		pod.Status.Phase = p
		// A conflict or a pod deleted meanwhile is retried (or moot) on the next tick.
		_ = c.Status().Update(ctx, pod)
	}
}

func rollOut(ctx context.Context, c client.Client, want func(*appsv1.Deployment) bool) {
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list); err != nil {
		return
	}
	for i := range list.Items {
		d := &list.Items[i]
		if d.Status.ObservedGeneration == d.Generation || !want(d) {
			continue
		}
		replicas := int32(1)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		now := metav1.Now()
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation,
			Replicas:           replicas, UpdatedReplicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: now, LastTransitionTime: now},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: now, LastTransitionTime: now},
			},
		}
		_ = c.Status().Update(ctx, d)
	}
}
