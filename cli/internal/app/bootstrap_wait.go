package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// bootstrapReconcileAnnotation is the annotation that makes a Flux controller reconcile now.
const bootstrapReconcileAnnotation = "reconcile.fluxcd.io/requestedAt"

// waitReconciled asks the controller to reconcile the sync object of kind now (a
// GitRepository would otherwise wait for its interval to see the new commit) and waits until
// it is Ready at revision. On timeout the error carries the object's last status message.
func (b *bootstrapRun) waitReconciled(ctx context.Context, kube *Kube, kind, revision string, deadline time.Time) error {
	k, err := LookupKind("", kind)
	if err != nil {
		return err
	}
	key := b.syncKey()
	b.c.Log().Waitingf("waiting for %s %q to be reconciled", kind, key)
	if err := requestBootstrapReconcile(ctx, kube, k, key); err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.GVK())
	last := "not reconciled yet"
	timeout := time.Until(deadline)
	err = wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		if err := kube.Client.Get(ctx, key, u); apierrors.IsNotFound(err) {
			last = "not found"
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("get %s %s: %w", kind, key, err)
		}
		st := StatusOf(u)
		if st.Ready == string(metav1.ConditionTrue) && st.Revision == revision {
			return true, nil
		}
		switch {
		case st.Message != "" && st.Ready != string(metav1.ConditionTrue):
			last = st.Message
		case st.Revision != revision:
			last = fmt.Sprintf("at revision %q", st.Revision)
		}
		return false, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s %q did not reconcile revision %s within %s: %s", kind, key, revision, timeout.Round(time.Second), last)
	}
	b.c.Log().Successf("%s reconciled successfully", kind)
	return nil
}

// requestBootstrapReconcile sets the reconcile request annotation to the current time.
func requestBootstrapReconcile(ctx context.Context, kube *Kube, k Kind, key client.ObjectKey) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{bootstrapReconcileAnnotation: time.Now().Format(time.RFC3339Nano)},
	}})
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.GVK())
	u.SetNamespace(key.Namespace)
	u.SetName(key.Name)
	if err := kube.Client.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("request reconciliation of %s %s: %w", k.Kind, key, err)
	}
	return nil
}
