// Package kubelet stands in for the kubelet of a test API server (envtest runs no nodes):
// it gives pods their final phase, so code that waits for pods to finish (Helm test hooks,
// Jobs' pods) can be tested against a real API server.
package kubelet

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PhaseFunc returns the final phase a running kubelet would give pod (PodSucceeded or
// PodFailed), or "" to leave the pod alone.
type PhaseFunc func(pod *corev1.Pod) corev1.PodPhase

// Start finishes pods in the background until ctx ends: every pod not yet Succeeded or
// Failed gets the phase phase returns for it. It looks every 100ms.
func Start(ctx context.Context, c client.Client, phase PhaseFunc) {
	go run(ctx, c, phase)
}

func run(ctx context.Context, c client.Client, phase PhaseFunc) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var pods corev1.PodList
		if err := c.List(ctx, &pods); err != nil {
			continue
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
}
