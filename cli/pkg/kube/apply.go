package kube

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/cli/pkg/log"
	"gotk.dev/cli/pkg/manifests"
)

// ApplyComponents applies objs in two phases, CRDs and the namespace first (nothing else can
// be created before them), then the rest, calling report with what happened to each object
// it applied (created, configured, unchanged). It returns the names of the Deployments among
// objs, for the caller to wait on.
func (k *Client) ApplyComponents(ctx context.Context, logger log.Logger, objs []*unstructured.Unstructured, deadline time.Time, report func(u *unstructured.Unstructured, action string)) ([]string, error) {
	var first, rest []*unstructured.Unstructured
	var deployments []string
	for _, u := range objs {
		switch u.GetKind() {
		case "Namespace", "CustomResourceDefinition":
			first = append(first, u)
		case "Deployment":
			deployments = append(deployments, u.GetName())
			rest = append(rest, u)
		default:
			rest = append(rest, u)
		}
	}
	apply := func(u *unstructured.Unstructured) error {
		action, err := k.Apply(ctx, u)
		if err == nil && report != nil {
			report(u, action)
		}
		return err
	}
	for _, u := range first {
		if u.GetKind() == "Namespace" {
			applied, err := k.applyNamespace(ctx, logger, u, deadline)
			if err != nil {
				return nil, err
			}
			if !applied {
				continue
			}
		}
		if err := apply(u); err != nil {
			return nil, err
		}
	}
	if err := k.WaitEstablished(ctx, first, time.Until(deadline)); err != nil {
		return nil, err
	}
	for _, u := range rest {
		if err := apply(u); err != nil {
			return nil, err
		}
	}
	return deployments, nil
}

// Apply server-side applies u (forcing conflicts: flux owns these fields) and says whether
// that created, changed ("configured") or left the object as it was ("unchanged").
func (k *Client) Apply(ctx context.Context, u *unstructured.Unstructured) (string, error) {
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(u.GroupVersionKind())
	err := k.Client.Get(ctx, client.ObjectKeyFromObject(u), existing)
	if err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("get %s: %w", manifests.ID(u), err)
	}
	created := apierrors.IsNotFound(err)
	applied := u.DeepCopy()
	if err := k.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(applied), client.ForceOwnership, client.FieldOwner(FieldManager)); err != nil {
		return "", fmt.Errorf("apply %s: %w", manifests.ID(u), err)
	}
	switch {
	case created:
		return "created", nil
	case applied.GetResourceVersion() != existing.GetResourceVersion():
		return "configured", nil
	}
	return "unchanged", nil
}

// applyNamespace decides whether the install namespace is to be applied, with two
// exceptions. A namespace that exists without the part-of=flux label belongs to someone
// else: install uses it as it is and does not label it, so uninstall will leave it (and its
// other content) alone. A namespace still terminating from an uninstall is waited for first.
func (k *Client) applyNamespace(ctx context.Context, logger log.Logger, u *unstructured.Unstructured, deadline time.Time) (bool, error) {
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(u.GroupVersionKind())
	key := client.ObjectKeyFromObject(u)
	err := k.Client.Get(ctx, key, existing)
	if err == nil && existing.GetDeletionTimestamp() != nil {
		logger.Waitingf("waiting for namespace %s to finish terminating", u.GetName())
		err = wait.PollUntilContextTimeout(ctx, PollInterval, time.Until(deadline), true, func(ctx context.Context) (bool, error) {
			err := k.Client.Get(ctx, key, existing)
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		if err != nil {
			return false, fmt.Errorf("namespace %s is still terminating: %w", u.GetName(), err)
		}
		err = k.Client.Get(ctx, key, existing)
	}
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get %s: %w", manifests.ID(u), err)
	case existing.GetLabels()[manifests.PartOfLabel] != manifests.PartOfValue:
		logger.Actionf("using the existing namespace %s as it is: it is not labelled %s=%s, so uninstall will keep it",
			u.GetName(), manifests.PartOfLabel, manifests.PartOfValue)
		return false, nil
	}
	return true, nil
}

// WaitEstablished waits until the API server serves every CRD among objs.
func (k *Client) WaitEstablished(ctx context.Context, objs []*unstructured.Unstructured, timeout time.Duration) error {
	for _, u := range objs {
		if u.GetKind() != "CustomResourceDefinition" {
			continue
		}
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(u.GroupVersionKind())
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
			if err := k.Client.Get(ctx, client.ObjectKeyFromObject(u), crd); err != nil {
				return false, err
			}
			return CRDEstablished(crd), nil
		})
		if err != nil {
			return fmt.Errorf("%s is not Established: %w", manifests.ID(u), err)
		}
	}
	return nil
}

// CRDEstablished reports the CRD's Established condition.
func CRDEstablished(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" {
			return m["status"] == "True"
		}
	}
	return false
}
