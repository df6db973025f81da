package ssa

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// recreateTimeout bounds the wait for a forced object to be gone before it is applied again.
const recreateTimeout = 30 * time.Second

// isImmutableError reports whether the API server (built-in validation, CEL rules such as
// `self == oldSelf`, admission webhooks) refused to change a field that is set for the life
// of the object. Only 422 Invalid errors are considered: recreating an object whose manifest
// is simply invalid would delete it for nothing.
func isImmutableError(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range [...]string{
		"field is immutable",
		"is immutable",
		"may not change once set",
		"cannot be changed",
		"updates to statefulset spec for fields other than",
		"may not change fields other than",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// recreate deletes the object (background propagation: dependents are collected by the
// garbage collector afterwards), waits until it is gone and applies data again into u.
func (m *Manager) recreate(ctx context.Context, u *unstructured.Unstructured, data []byte) error {
	gvk := u.GroupVersionKind()
	key := client.ObjectKeyFromObject(u)
	if err := m.client.Delete(ctx, partial(gvk, key), client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("recreate after an immutable field change: delete: %w", err)
	}
	if err := m.waitGone(ctx, gvk, key, recreateTimeout); err != nil {
		return fmt.Errorf("recreate after an immutable field change: %w", err)
	}
	return m.patchApply(ctx, u, data)
}

// waitGone polls until the object does not exist.
func (m *Manager) waitGone(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return poll(ctx, 50*time.Millisecond, func() (bool, error) {
		err := m.client.Get(ctx, key, partial(gvk, key))
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}, func() string { return fmt.Sprintf("still exists after %s", timeout) })
}

// partial returns a metadata-only object for gets and deletes that do not need the body.
func partial(gvk schema.GroupVersionKind, key client.ObjectKey) *metav1.PartialObjectMetadata {
	p := &metav1.PartialObjectMetadata{}
	p.SetGroupVersionKind(gvk)
	p.SetNamespace(key.Namespace)
	p.SetName(key.Name)
	return p
}

// poll calls cond every interval (growing to 1s) until it returns true or an error, or ctx
// ends; then the error names what was waited for with timeoutMsg.
func poll(ctx context.Context, interval time.Duration, cond func() (bool, error), timeoutMsg func() string) error {
	for {
		done, err := cond()
		if done {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", timeoutMsg(), ctx.Err())
		case <-t.C:
		}
		if interval *= 2; interval > time.Second {
			interval = time.Second
		}
	}
}
