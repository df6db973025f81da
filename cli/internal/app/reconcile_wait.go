package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxobj"
)

// waitCheck judges one read: done, or failed for good (an error), or not yet.
type waitCheck = fluxobj.Check

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
	return waitObject(ctx, kube, k, namespace, name, "to become ready", c.Global.Timeout, fluxobj.ReadyCheck(k),
		func(u *unstructured.Unstructured) string { return fluxobj.StateOf(u).Why() })
}

// waitReconciled waits until the controller handled the reconcile request token
// (reconciledCheck).
func (c *Command) waitReconciled(ctx context.Context, kube *Kube, k Kind, namespace, name, token string) (*unstructured.Unstructured, error) {
	return waitObject(ctx, kube, k, namespace, name, "to be reconciled", c.Global.Timeout, fluxobj.ReconciledCheck(k, token),
		func(u *unstructured.Unstructured) string {
			if s := fluxobj.StateOf(u); s.Handled != token {
				return "the controller has not handled the request yet (is it running?)"
			}
			return fluxobj.StateOf(u).Why()
		})
}

// revisionMessage is what upstream flux prints once an object is reconciled.
func revisionMessage(k Kind, u *unstructured.Unstructured, sep string) string {
	return fluxobj.RevisionMessage(k, u, sep)
}
