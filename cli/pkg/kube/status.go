package kube

import (
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Status is the summary `flux get` prints for an object.
type Status struct {
	Ready     string // "True", "False", "Unknown"
	Message   string
	Revision  string
	Suspended bool
}

// StatusOf summarizes an object the way upstream flux get does: the Ready condition (Unknown
// when the controller has not seen the current generation), the artifact or last applied
// revision, and spec.suspend.
func StatusOf(u *unstructured.Unstructured) Status {
	st := Status{Ready: string(metav1.ConditionUnknown)}
	st.Suspended, _, _ = unstructured.NestedBool(u.Object, "spec", "suspend")
	if rev, ok, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision"); ok {
		st.Revision = rev
	} else if rev, ok, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision"); ok {
		st.Revision = rev
	} else if rev := latestChartVersion(u); rev != "" {
		// A HelmRelease: the chart version of its current release, as upstream shows it.
		st.Revision = rev
	} else if rev, ok, _ := unstructured.NestedString(u.Object, "status", "lastAttemptedRevision"); ok {
		st.Revision = rev
	}
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var conds []metav1.Condition
	for _, c := range raw {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		t, _ := m["type"].(string)
		s, _ := m["status"].(string)
		msg, _ := m["message"].(string)
		reason, _ := m["reason"].(string)
		conds = append(conds, metav1.Condition{Type: t, Status: metav1.ConditionStatus(s), Message: msg, Reason: reason})
	}
	if c := apimeta.FindStatusCondition(conds, meta.ReadyCondition); c != nil {
		st.Ready, st.Message = string(c.Status), c.Message
	}
	observed, ok, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if ok && observed != u.GetGeneration() && st.Ready == string(metav1.ConditionTrue) {
		st.Ready, st.Message = string(metav1.ConditionUnknown), "reconciliation in progress"
	}
	return st
}

// latestChartVersion is the chart version of a HelmRelease's newest status.history entry.
func latestChartVersion(u *unstructured.Unstructured) string {
	history, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
	if len(history) == 0 {
		return ""
	}
	h, _ := history[0].(map[string]any)
	v, _ := h["chartVersion"].(string)
	return v
}
