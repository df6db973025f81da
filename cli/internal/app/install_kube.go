package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/version"
)

// connectTimeout bounds the first request to the cluster, so an address that swallows
// packets fails as fast as one that refuses them.
const connectTimeout = 15 * time.Second

// connect builds the clients and asks the API server for its version: an unreachable or
// misconfigured cluster fails here, with its address, instead of deep inside a command.
func (c *Command) connect(ctx context.Context) (*Kube, *version.Info, error) {
	kube, err := c.Global.Kube()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, min(connectTimeout, c.Global.Timeout))
	defer cancel()
	body, err := kube.Clientset.Discovery().RESTClient().Get().AbsPath("/version").DoRaw(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach the Kubernetes API server at %s: %w", kube.Config.Host, err)
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, nil, fmt.Errorf("unexpected /version answer from the Kubernetes API server at %s: %w", kube.Config.Host, err)
	}
	return kube, &info, nil
}

// deploymentReady reports whether a Deployment finished rolling out: the controller saw the
// latest spec and every wanted replica is updated and available, with no old ones left.
// The reason says what is missing.
func deploymentReady(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	switch {
	case s.ObservedGeneration < d.Generation:
		return false, "rollout not started yet"
	case s.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas updated", s.UpdatedReplicas, want)
	case s.Replicas > s.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas pending termination", s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas available", s.AvailableReplicas, want)
	}
	return true, "deployment ready"
}
