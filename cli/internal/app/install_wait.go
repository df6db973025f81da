package app

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
)

// pollInterval is how often waits re-read the cluster.
const pollInterval = 500 * time.Millisecond

// waitDeployments waits until every named Deployment in ns is ready, calling ready once for
// each as it gets there (in name order per poll). After timeout it reports each one still
// not ready with the reason (✗) and returns an error naming them.
func waitDeployments(ctx context.Context, kube *Kube, log *Logger, ns string, names []string, timeout time.Duration, ready func(*appsv1.Deployment)) error {
	names = slices.Sorted(slices.Values(names))
	done := map[string]bool{}
	reasons := map[string]string{}
	deadline := time.Now().Add(timeout)
	for {
		for _, name := range names {
			if done[name] {
				continue
			}
			d, err := kube.Clientset.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				reasons[name] = "deployment not found"
				continue
			case err != nil:
				return fmt.Errorf("get Deployment/%s/%s: %w", ns, name, err)
			}
			ok, reason := deploymentReady(d)
			reasons[name] = reason
			if ok {
				done[name] = true
				ready(d)
			}
		}
		if len(done) == len(names) {
			return nil
		}
		if time.Now().After(deadline) {
			var pending []string
			for _, name := range names {
				if !done[name] {
					log.Failuref("%s: %s", name, reasons[name])
					pending = append(pending, name)
				}
			}
			return fmt.Errorf("timed out after %s waiting for %s in namespace %s to become ready", timeout, strings.Join(pending, ", "), ns)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), fmt.Errorf("waiting for deployments in namespace %s", ns))
		case <-time.After(pollInterval):
		}
	}
}
