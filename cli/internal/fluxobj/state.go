package fluxobj

import (
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ReconcileState is what one read of a Flux object says about its last reconciliation.
type ReconcileState struct {
	// Current: the controller has seen the current generation (observedGeneration).
	Current bool
	// Ready is the Ready condition's status ("True", "False", "Unknown"; "" when absent).
	Ready   string
	Message string
	// Reconciling and Stalled are the Reconciling and Stalled conditions being True.
	Reconciling, Stalled bool
	// Handled is status.lastHandledReconcileAt.
	Handled string
}

// StateOf reads the reconcile state of u.
func StateOf(u *unstructured.Unstructured) ReconcileState {
	var s ReconcileState
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	s.Current = observed == u.GetGeneration()
	s.Handled, _, _ = unstructured.NestedString(u.Object, "status", "lastHandledReconcileAt")
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
			s.Ready = status
			s.Message, _ = m["message"].(string)
		case meta.ReconcilingCondition:
			s.Reconciling = status == string(metav1.ConditionTrue)
		case meta.StalledCondition:
			s.Stalled = status == string(metav1.ConditionTrue)
		}
	}
	return s
}

// Why is the state in words, for timeouts.
func (s ReconcileState) Why() string {
	switch {
	case s.Ready == "":
		return "not reconciled yet"
	case !s.Current && s.Ready == string(metav1.ConditionTrue):
		return "the controller has not seen the latest generation yet"
	case s.Message != "":
		return fmt.Sprintf("Ready=%s: %s", s.Ready, s.Message)
	}
	return "Ready=" + s.Ready
}

// Check judges one read of an object: done, or failed for good (an error), or not yet.
type Check func(u *unstructured.Unstructured) (done bool, err error)

// ReadyCheck is done when the object is Ready at its current generation and not
// reconciling (what create and resume wait for). A Stalled object fails at once (it will not
// change until its spec does); one that fails and retries is waited for, as the next attempt
// may succeed (a source that is not ready yet).
func ReadyCheck(k Kind) Check {
	return func(u *unstructured.Unstructured) (bool, error) {
		s := StateOf(u)
		if s.Stalled && s.Current {
			return false, fmt.Errorf("%s %s/%s reconciliation failed: %s", k.Kind, u.GetNamespace(), u.GetName(), s.Message)
		}
		return s.Current && s.Ready == string(metav1.ConditionTrue) && !s.Reconciling, nil
	}
}

// ReconciledCheck is done when status.lastHandledReconcileAt is token and Ready is True at
// the current generation (what reconcile waits for). Ready=False then fails with its
// message: that is the outcome of the reconciliation the user asked for. Ready=Unknown (in
// progress) is waited for.
func ReconciledCheck(k Kind, token string) Check {
	return func(u *unstructured.Unstructured) (bool, error) {
		s := StateOf(u)
		if s.Handled != token {
			return false, nil
		}
		switch s.Ready {
		case string(metav1.ConditionTrue):
			return s.Current, nil
		case string(metav1.ConditionFalse):
			return false, fmt.Errorf("%s reconciliation failed: '%s'", k.Kind, s.Message)
		}
		return false, nil
	}
}

// RevisionMessage is what upstream flux prints once an object is reconciled: the fetched
// revision of a source, the applied revision of a Kustomization or HelmRelease. sep goes
// between "revision" and the value.
func RevisionMessage(k Kind, u *unstructured.Unstructured, sep string) string {
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
