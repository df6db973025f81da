package bootstrap

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

	"gotk.dev/cli/pkg/kube"
)

// ReconcileAnnotation is the annotation that makes a Flux controller reconcile now.
const ReconcileAnnotation = "reconcile.fluxcd.io/requestedAt"

// syncObject is a sync object's API version and kind.
type syncObject struct{ apiVersion, kind string }

var (
	gitRepositoryObject = syncObject{SourceGroupVersion, "GitRepository"}
	kustomizationObject = syncObject{KustomizeGroupVersion, "Kustomization"}
)

func (o syncObject) empty() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(o.apiVersion)
	u.SetKind(o.kind)
	return u
}

// waitReconciled asks the controller to reconcile the sync object now (a GitRepository
// would otherwise wait for its interval to see the new commit) and waits until it is Ready
// at revision. On timeout the error carries the object's last status message.
func (b *Bootstrapper) waitReconciled(ctx context.Context, obj syncObject, revision string, deadline time.Time) error {
	key := b.syncKey()
	b.Log.Waitingf("waiting for %s %q to be reconciled", obj.kind, key)
	if err := requestReconcile(ctx, b.Kube, obj, key); err != nil {
		return err
	}
	u := obj.empty()
	last := "not reconciled yet"
	timeout := time.Until(deadline)
	err := wait.PollUntilContextTimeout(ctx, kube.PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		if err := b.Kube.Client.Get(ctx, key, u); apierrors.IsNotFound(err) {
			last = "not found"
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("get %s %s: %w", obj.kind, key, err)
		}
		st := kube.StatusOf(u)
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
		return fmt.Errorf("%s %q did not reconcile revision %s within %s: %s", obj.kind, key, revision, timeout.Round(time.Second), last)
	}
	b.Log.Successf("%s reconciled successfully", obj.kind)
	return nil
}

// requestReconcile sets the reconcile request annotation to the current time.
func requestReconcile(ctx context.Context, k *kube.Client, obj syncObject, key client.ObjectKey) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{ReconcileAnnotation: time.Now().Format(time.RFC3339Nano)},
	}})
	if err != nil {
		return err
	}
	u := obj.empty()
	u.SetNamespace(key.Namespace)
	u.SetName(key.Name)
	if err := k.Client.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("request reconciliation of %s %s: %w", obj.kind, key, err)
	}
	return nil
}
