package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/cli/pkg/log"
)

// WaitDeployments waits until every named Deployment in ns is ready, calling ready once for
// each as it gets there (in name order per poll). After timeout it reports each one still
// not ready with the reason (✗) and returns an error naming them.
func (k *Client) WaitDeployments(ctx context.Context, logger log.Logger, ns string, names []string, timeout time.Duration, ready func(*appsv1.Deployment)) error {
	names = slices.Sorted(slices.Values(names))
	done := map[string]bool{}
	reasons := map[string]string{}
	deadline := time.Now().Add(timeout)
	for {
		for _, name := range names {
			if done[name] {
				continue
			}
			d, err := k.Clientset.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				reasons[name] = "deployment not found"
				continue
			case err != nil:
				return fmt.Errorf("get Deployment/%s/%s: %w", ns, name, err)
			}
			ok, reason := DeploymentReady(d)
			reasons[name] = reason
			if ok {
				done[name] = true
				if ready != nil {
					ready(d)
				}
			}
		}
		if len(done) == len(names) {
			return nil
		}
		if time.Now().After(deadline) {
			var pending []string
			for _, name := range names {
				if !done[name] {
					logger.Failuref("%s: %s", name, reasons[name])
					pending = append(pending, name)
				}
			}
			return fmt.Errorf("timed out after %s waiting for %s in namespace %s to become ready", timeout, strings.Join(pending, ", "), ns)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), fmt.Errorf("waiting for deployments in namespace %s", ns))
		case <-time.After(PollInterval):
		}
	}
}

// DeploymentReady reports whether a Deployment finished rolling out: the controller saw the
// latest spec and every wanted replica is updated and available, with no old ones left.
// The reason says what is missing.
func DeploymentReady(d *appsv1.Deployment) (bool, string) {
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
