package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// reconcileState is what one read of a Flux object says about its last reconciliation.
type reconcileState struct {
	// current: the controller has seen the current generation (observedGeneration).
	current bool
	// ready is the Ready condition's status ("True", "False", "Unknown"; "" when absent).
	ready   string
	message string
	// reconciling and stalled are the Reconciling and Stalled conditions being True.
	reconciling, stalled bool
	// handled is status.lastHandledReconcileAt.
	handled string
}

func reconcileStateOf(u *unstructured.Unstructured) reconcileState {
	var s reconcileState
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	s.current = observed == u.GetGeneration()
	s.handled, _, _ = unstructured.NestedString(u.Object, "status", "lastHandledReconcileAt")
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range raw {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		status, _ := m["status"].(string)
		switch typ {
		case meta.ReadyCondition:
			s.ready = status
			s.message, _ = m["message"].(string)
		case meta.ReconcilingCondition:
			s.reconciling = status == string(metav1.ConditionTrue)
		case meta.StalledCondition:
			s.stalled = status == string(metav1.ConditionTrue)
		}
	}
	return s
}

// why is the state in words, for timeouts.
func (s reconcileState) why() string {
	switch {
	case s.ready == "":
		return "not reconciled yet"
	case !s.current && s.ready == string(metav1.ConditionTrue):
		return "the controller has not seen the latest generation yet"
	case s.message != "":
		return fmt.Sprintf("Ready=%s: %s", s.ready, s.message)
	}
	return "Ready=" + s.ready
}

// waitCheck judges one read: done, or failed for good (an error), or not yet.
type waitCheck func(u *unstructured.Unstructured) (done bool, err error)

// waitObject re-reads the object until check is done or fails, or the context ends (the
// command's --timeout), when why says what it was still waiting for. It returns the last
// read.
func waitObject(ctx context.Context, kube *Kube, k Kind, namespace, name string, what string, timeout time.Duration, check waitCheck, why func(*unstructured.Unstructured) string) (*unstructured.Unstructured, error) {
	pause := 100 * time.Millisecond
	var last *unstructured.Unstructured
	var lastErr error
	for {
		u, err := getObject(ctx, kube, k, namespace, name)
		switch {
		case err == nil:
			last, lastErr = u, nil
			done, err := check(u)
			if err != nil {
				return u, err
			}
			if done {
				return u, nil
			}
		case ctx.Err() == nil:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			reason := "no answer from the cluster"
			switch {
			case lastErr != nil:
				reason = lastErr.Error()
			case last != nil:
				reason = why(last)
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return last, fmt.Errorf("timed out after %s waiting for %s %s/%s %s: %s", timeout, k.Kind, namespace, name, what, reason)
			}
			return last, fmt.Errorf("stopped waiting for %s %s/%s %s: %w", k.Kind, namespace, name, what, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(pause*3/2, time.Second)
	}
}

// waitReady waits until the object is Ready at its current generation (readyCheck).
func (c *Command) waitReady(ctx context.Context, kube *Kube, k Kind, namespace, name string) (*unstructured.Unstructured, error) {
	return waitObject(ctx, kube, k, namespace, name, "to become ready", c.Global.Timeout, readyCheck(k),
		func(u *unstructured.Unstructured) string { return reconcileStateOf(u).why() })
}

// readyCheck is done when the object is Ready at its current generation and not
// reconciling. A Stalled object fails at once (it will not change until its spec does); one
// that fails and retries is waited for, as the next attempt may succeed (a source that is
// not ready yet).
func readyCheck(k Kind) waitCheck {
	return func(u *unstructured.Unstructured) (bool, error) {
		s := reconcileStateOf(u)
		if s.stalled && s.current {
			return false, fmt.Errorf("%s %s/%s reconciliation failed: %s", k.Kind, u.GetNamespace(), u.GetName(), s.message)
		}
		return s.current && s.ready == string(metav1.ConditionTrue) && !s.reconciling, nil
	}
}

// waitReconciled waits until the controller handled the reconcile request token
// (reconciledCheck).
func (c *Command) waitReconciled(ctx context.Context, kube *Kube, k Kind, namespace, name, token string) (*unstructured.Unstructured, error) {
	return waitObject(ctx, kube, k, namespace, name, "to be reconciled", c.Global.Timeout, reconciledCheck(k, token),
		func(u *unstructured.Unstructured) string {
			if s := reconcileStateOf(u); s.handled != token {
				return "the controller has not handled the request yet (is it running?)"
			}
			return reconcileStateOf(u).why()
		})
}

// reconciledCheck is done when status.lastHandledReconcileAt is token and Ready is True at
// the current generation. Ready=False then fails with its message: that is the outcome of
// the reconciliation the user asked for. Ready=Unknown (in progress) is waited for.
func reconciledCheck(k Kind, token string) waitCheck {
	return func(u *unstructured.Unstructured) (bool, error) {
		s := reconcileStateOf(u)
		if s.handled != token {
			return false, nil
		}
		switch s.ready {
		case string(metav1.ConditionTrue):
			return s.current, nil
		case string(metav1.ConditionFalse):
			return false, fmt.Errorf("%s reconciliation failed: '%s'", k.Kind, s.message)
		}
		return false, nil
	}
}

// revisionMessage is what upstream flux prints once an object is reconciled: the fetched
// revision of a source, the applied revision of a Kustomization or HelmRelease.
func revisionMessage(k Kind, u *unstructured.Unstructured, sep string) string {
	switch {
	case k.IsSource:
		rev, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision")
		return fmt.Sprintf("fetched revision%s %s", sep, rev)
	case k.Kind == "Kustomization":
		rev, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
		return fmt.Sprintf("applied revision%s %s", sep, rev)
	case k.Kind == "HelmRelease":
		rev, _, _ := unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
		return fmt.Sprintf("applied revision%s %s", sep, rev)
	case k.Kind == "ImageRepository":
		n, _, _ := unstructured.NestedInt64(u.Object, "status", "lastScanResult", "tagCount")
		return fmt.Sprintf("scan fetched %d tags", n)
	case k.Parent == "image":
		// Image policies and automations say what they did in their Ready message.
		if msg := StatusOf(u).Message; msg != "" {
			return msg
		}
	}
	return fmt.Sprintf("%s reconciliation completed", k.Kind)
}
