// Package health computes the health (kstatus) of Kubernetes objects the caller already holds:
// apply responses or objects from a watch cache. It makes no API calls, so a reconciler can
// assess health, record the outcome and requeue instead of blocking a worker while it polls.
//
// Three rules decide an object's status, the first that applies wins:
//  1. a spec.healthCheckExprs entry (CEL) for the object's group and kind;
//  2. the Flux rule for kinds of any *.toolkit.fluxcd.io group (Ready condition at the current
//     generation), because kstatus alone reports a Flux object with Ready=False as Current;
//  3. kstatus (sigs.k8s.io/cli-utils pkg/kstatus/status.Compute) for everything else.
package health

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Status is an object's health, named like kstatus statuses so messages read the same as
// upstream Flux's.
type Status string

const (
	// Current means the object reached its desired state.
	Current Status = "Current"
	// InProgress means the object is still converging.
	InProgress Status = "InProgress"
	// Failed means the object will not converge without a change (stalled, deadline exceeded).
	Failed Status = "Failed"
	// Terminating means the object is being deleted.
	Terminating Status = "Terminating"
	// NotFound means the object does not exist (yet).
	NotFound Status = "NotFound"
	// Unknown means the status could not be computed, e.g. a CEL expression failed to evaluate.
	Unknown Status = "Unknown"
)

// Result is the health of one object.
type Result struct {
	Status  Status
	Message string
	// Assumed says what the status rests on beyond the object's own report, when the object
	// (a custom resource) reports too little to tell: "no status" or "no
	// status.observedGeneration". Empty when the object reports its health fully.
	Assumed string
}

// ObjMeta identifies an object in health messages and in the list of missing objects.
type ObjMeta struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
}

// ObjMetaOf returns the identity of obj.
func ObjMetaOf(obj *unstructured.Unstructured) ObjMeta {
	gv, _ := schema.ParseGroupVersion(obj.GetAPIVersion())
	return ObjMeta{Group: gv.Group, Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// String formats the object as Kind/namespace/name (Kind/name when cluster-scoped), the form
// Flux uses in health messages.
func (m ObjMeta) String() string {
	var b strings.Builder
	b.Grow(len(m.Kind) + len(m.Namespace) + len(m.Name) + 2)
	b.WriteString(m.Kind)
	b.WriteByte('/')
	if m.Namespace != "" {
		b.WriteString(m.Namespace)
		b.WriteByte('/')
	}
	b.WriteString(m.Name)
	return b.String()
}

// condition is the part of a status condition the health rules read.
type condition struct {
	Status  string
	Reason  string
	Message string
}

// findCondition returns status.conditions[type=condType] read straight from the object's map,
// without converting the whole object into a typed struct (this runs for every object of every
// Kustomization on every reconcile).
func findCondition(obj map[string]any, condType string) (condition, bool) {
	status, _ := obj["status"].(map[string]any)
	conds, _ := status["conditions"].([]any)
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != condType {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return condition{Status: s, Reason: r, Message: msg}, true
	}
	return condition{}, false
}

// int64Field reads an integer at obj[path...], accepting the numeric types JSON decoders and
// hand-built objects produce.
func int64Field(obj map[string]any, path ...string) (int64, bool) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, false
		}
		if cur, ok = m[p]; !ok {
			return 0, false
		}
	}
	switch v := cur.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case float64:
		return int64(v), true
	}
	return 0, false
}
