package health

import (
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Evaluator computes the health of objects. It is built once per Kustomization (or HelmRelease)
// from spec.healthCheckExprs and is safe for concurrent use. A nil *Evaluator applies the
// default rules only.
type Evaluator struct {
	// checks maps group + "/" + kind to the custom check; kind "" matches every kind of the group.
	checks map[string]*customCheck
}

// customCheck holds the compiled expressions of one healthCheckExprs entry; nil means unset.
type customCheck struct {
	inProgress, failed, current *boolExpr
}

// NewEvaluator compiles exprs in a fresh CEL environment. Controllers should prefer
// Compiler.NewEvaluator, which shares compiled programs between objects.
func NewEvaluator(exprs []kustomize.CustomHealthCheck) (*Evaluator, error) {
	if len(exprs) == 0 {
		return &Evaluator{}, nil
	}
	c, err := NewCompiler()
	if err != nil {
		return nil, err
	}
	return c.NewEvaluator(exprs)
}

// NewEvaluator compiles exprs (spec.healthCheckExprs). An entry without apiVersion or current
// expression, or an expression that does not compile to a bool, is an error naming the entry's
// apiVersion/kind and the expression: the reconciler stalls on it. Entries match objects by
// group and kind (the version is ignored, like kstatus status readers); when two entries match
// the same group and kind the first wins.
func (c *Compiler) NewEvaluator(exprs []kustomize.CustomHealthCheck) (*Evaluator, error) {
	e := &Evaluator{checks: make(map[string]*customCheck, len(exprs))}
	for i := range exprs {
		x := &exprs[i]
		id := x.APIVersion
		if x.Kind != "" {
			id += " " + x.Kind
		}
		if x.APIVersion == "" {
			return nil, fmt.Errorf("healthCheckExprs[%d] (kind %q): apiVersion is required", i, x.Kind)
		}
		if x.Current == "" {
			return nil, fmt.Errorf("healthCheckExprs[%d] (%s): the current expression is required", i, id)
		}
		chk := &customCheck{}
		for _, f := range []struct {
			name string
			text string
			dst  **boolExpr
		}{
			{"inProgress", x.InProgress, &chk.inProgress},
			{"failed", x.Failed, &chk.failed},
			{"current", x.Current, &chk.current},
		} {
			if f.text == "" {
				continue
			}
			prg, err := c.compile(f.text)
			if err != nil {
				return nil, fmt.Errorf("healthCheckExprs[%d] (%s): invalid %s expression %q: %w", i, id, f.name, f.text, err)
			}
			*f.dst = &boolExpr{text: f.text, prg: prg}
		}
		key := groupOf(x.APIVersion) + "/" + x.Kind
		if _, dup := e.checks[key]; !dup {
			e.checks[key] = chk
		}
	}
	return e, nil
}

// groupOf returns the API group of an apiVersion ("apps/v1" -> "apps", "v1" -> "").
func groupOf(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// lookup returns the custom check for group and kind, if any.
func (e *Evaluator) lookup(group, kind string) *customCheck {
	if e == nil || len(e.checks) == 0 {
		return nil
	}
	key := group + "/" + kind
	if chk, ok := e.checks[key]; ok {
		return chk
	}
	return e.checks[key[:len(group)+1]]
}

// Evaluate computes obj's health from the object alone. An error (a CEL expression that fails
// to evaluate, a malformed status) comes with Status Unknown and a Message without the object's
// name; the error names the object.
func (e *Evaluator) Evaluate(obj *unstructured.Unstructured) (Result, error) {
	group := groupOf(obj.GetAPIVersion())
	if chk := e.lookup(group, obj.GetKind()); chk != nil {
		res := chk.evaluate(obj)
		if res.Status == Unknown {
			return res, fmt.Errorf("%s: %s", ObjMetaOf(obj), res.Message)
		}
		return res, nil
	}
	if isFluxGroup(group) {
		return fluxStatus(group, obj), nil
	}
	res, err := status.Compute(obj)
	if err != nil {
		msg := "computing status: " + err.Error()
		return Result{Status: Unknown, Message: msg}, fmt.Errorf("%s: %s", ObjMetaOf(obj), msg)
	}
	out := Result{Status: Status(res.Status), Message: res.Message}
	if out.Status == Current && !isBuiltinGroup(group) {
		out.Assumed = assumption(obj.Object)
	}
	return out, nil
}

// isBuiltinGroup reports whether group is one of Kubernetes' own, whose kinds kstatus knows.
func isBuiltinGroup(group string) bool {
	return !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io")
}

// assumption says what kstatus had to assume to call a custom resource Current: it reports
// Current for an object with no status at all (its controller may not have seen it yet, or
// it has none to report), and cannot tell which generation a status without
// observedGeneration describes.
func assumption(obj map[string]any) string {
	st, ok := obj["status"].(map[string]any)
	switch {
	case !ok || len(st) == 0:
		return "no status"
	case st["observedGeneration"] == nil:
		return "no status.observedGeneration"
	}
	return ""
}

// evaluate applies a custom check: an object whose status.observedGeneration is behind
// metadata.generation is InProgress (its status describes an older spec); otherwise the
// expressions are tried in the documented order inProgress, failed, current, and the first that
// is true decides. When none is true the object is InProgress. An expression that cannot be
// evaluated (e.g. it reads a field the object does not have yet) yields Unknown, which callers
// wait on like InProgress.
func (chk *customCheck) evaluate(obj *unstructured.Unstructured) Result {
	m := obj.Object
	if gen, ok := int64Field(m, "metadata", "generation"); ok {
		if obs, ok := int64Field(m, "status", "observedGeneration"); ok && obs != gen {
			return Result{Status: InProgress, Message: fmt.Sprintf("%s generation is %d, but latest observed generation is %d", obj.GetKind(), gen, obs)}
		}
	}
	for _, step := range []struct {
		name   string
		expr   *boolExpr
		status Status
	}{
		{"inProgress", chk.inProgress, InProgress},
		{"failed", chk.failed, Failed},
		{"current", chk.current, Current},
	} {
		if step.expr == nil {
			continue
		}
		ok, err := step.expr.eval(m)
		if err != nil {
			return Result{Status: Unknown, Message: fmt.Sprintf("evaluating %s expression %q: %v", step.name, step.expr.text, err)}
		}
		if ok {
			return Result{Status: step.status, Message: customMessage(m, step.name)}
		}
	}
	return Result{Status: InProgress, Message: "no health check expression matched"}
}

// customMessage explains a custom check's verdict: the object's Ready condition message when it
// has one (it usually says why), else which expression matched.
func customMessage(obj map[string]any, exprName string) string {
	if c, ok := findCondition(obj, "Ready"); ok && c.Message != "" {
		return c.Message
	}
	return exprName + " expression matched"
}
