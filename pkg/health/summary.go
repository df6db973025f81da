package health

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Summary is the health of a set of objects.
type Summary struct {
	// Status is Current when every object is Current, Failed when any object Failed, else
	// InProgress.
	Status Status
	// Message explains Status: the failed objects with their status messages when Failed, the
	// objects waited on when InProgress.
	Message string
	// Failed lists the failed objects, in input order.
	Failed []ObjectResult
	// Waiting lists the objects that are neither Current nor Failed (InProgress, Terminating,
	// NotFound, Unknown), objects before missing ones, in input order.
	Waiting []ObjectResult
	// Assumed lists the Current objects whose health rests on an assumption (see
	// Result.Assumed), for the caller to say so.
	Assumed []ObjectResult
}

// AssumedMessage names the objects counted Current on an assumption, "" when none were:
// "assumed current: Widget/apps/w (no status)".
func (s Summary) AssumedMessage() string {
	if len(s.Assumed) == 0 {
		return ""
	}
	parts := make([]string, 0, len(s.Assumed))
	for _, a := range s.Assumed {
		parts = append(parts, a.Object.String()+" ("+a.Assumed+")")
	}
	return "assumed current: " + strings.Join(parts, ", ")
}

// ObjectResult is the health of one object of a set.
type ObjectResult struct {
	Object ObjMeta
	Result
}

// Healthy reports whether every object is Current.
func (s Summary) Healthy() bool { return s.Status == Current }

// Summarize evaluates objs and counts each of missing (objects expected but absent from the
// caller's cache) as NotFound. An object whose health cannot be computed counts as Unknown and
// is waited on: it may become computable (a CEL expression reading a status field that the
// object's controller has not written yet).
func (e *Evaluator) Summarize(objs []*unstructured.Unstructured, missing []ObjMeta) Summary {
	var s Summary
	for _, obj := range objs {
		res, _ := e.Evaluate(obj)
		switch res.Status {
		case Current:
			if res.Assumed != "" {
				s.Assumed = append(s.Assumed, ObjectResult{Object: ObjMetaOf(obj), Result: res})
			}
		case Failed:
			s.Failed = append(s.Failed, ObjectResult{Object: ObjMetaOf(obj), Result: res})
		default:
			s.Waiting = append(s.Waiting, ObjectResult{Object: ObjMetaOf(obj), Result: res})
		}
	}
	for _, m := range missing {
		s.Waiting = append(s.Waiting, ObjectResult{Object: m, Result: Result{Status: NotFound, Message: "object not found"}})
	}
	switch {
	case len(s.Failed) > 0:
		s.Status = Failed
		s.Message = failedMessage(s.Failed, len(s.Waiting))
	case len(s.Waiting) > 0:
		s.Status = InProgress
		s.Message = waitingMessage(s.Waiting)
	default:
		s.Status = Current
		s.Message = "all " + strconv.Itoa(len(objs)) + " objects are current"
		if len(objs) == 1 {
			s.Message = "1 object is current"
		}
	}
	return s
}

// failedMessage lists each failed object as "Kind/namespace/name failed: message".
func failedMessage(failed []ObjectResult, waiting int) string {
	var b strings.Builder
	for i, r := range failed {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.Object.String())
		b.WriteString(" failed")
		if r.Message != "" {
			b.WriteString(": ")
			b.WriteString(r.Message)
		}
	}
	if waiting > 0 {
		b.WriteString(" (")
		b.WriteString(strconv.Itoa(waiting))
		b.WriteString(" more in progress)")
	}
	return b.String()
}

// waitingMessage lists each object waited on as "Kind/namespace/name (Status: message)".
func waitingMessage(waiting []ObjectResult) string {
	var b strings.Builder
	b.WriteString("waiting for: ")
	for i, r := range waiting {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.Object.String())
		b.WriteString(" (")
		b.WriteString(string(r.Status))
		if r.Message != "" {
			b.WriteString(": ")
			b.WriteString(r.Message)
		}
		b.WriteByte(')')
	}
	return b.String()
}
