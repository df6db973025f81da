// Package dependency decides whether the dependencies listed in spec.dependsOn of a
// Kustomization or HelmRelease are ready, from objects the caller already read from its cache,
// and finds dependency cycles.
//
// Readiness follows Flux: a dependency is ready when its Ready condition is True for its current
// generation (status.observedGeneration == metadata.generation). A readyExpr (CEL, with self
// bound to the dependent and dep to the dependency) replaces that check, or is added to it when
// the AdditiveCELDependencyCheck feature gate is on.
package dependency

import (
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Dep is one spec.dependsOn entry with the dependency object the caller fetched.
type Dep struct {
	Ref meta.DependencyReference
	// Obj is the dependency, nil when it does not exist.
	Obj *unstructured.Unstructured
	// Revision, when set, is the artifact revision the dependency must have applied
	// (status.lastAppliedRevision) to count as ready. kustomize-controller sets it to the
	// source's current revision when dependent and dependency reconcile the same source, so the
	// dependent does not apply a revision its dependency has not applied yet. Ignored when a
	// readyExpr replaces the built-in check.
	Revision string
}

// Checker evaluates dependencies. It caches compiled readyExprs and is safe for concurrent use;
// a controller builds one at start-up.
type Checker struct {
	comp *compiler
	// additive makes readyExpr an extra condition on top of the built-in check.
	additive bool
}

// NewChecker returns a Checker. additive is the AdditiveCELDependencyCheck feature gate: when
// true a readyExpr must hold in addition to the built-in check, else it replaces it.
func NewChecker(additive bool) (*Checker, error) {
	comp, err := newCompiler()
	if err != nil {
		return nil, err
	}
	return &Checker{comp: comp, additive: additive}, nil
}

// Check evaluates deps of dependent with a fresh, non-additive Checker. Controllers should keep
// a Checker instead, which compiles each readyExpr once.
func Check(dependent *unstructured.Unstructured, deps []Dep) error {
	c, err := NewChecker(false)
	if err != nil {
		return err
	}
	return c.Check(dependent, deps)
}

// CompileReadyExpr compiles expr in a fresh environment, to validate it. An invalid expression
// is an *InvalidExprError.
func CompileReadyExpr(expr string) (*ReadyExpr, error) {
	c, err := newCompiler()
	if err != nil {
		return nil, err
	}
	return c.compile(expr)
}

// CompileReadyExpr compiles expr, or returns the cached compilation. An invalid expression is an
// *InvalidExprError.
func (c *Checker) CompileReadyExpr(expr string) (*ReadyExpr, error) { return c.comp.compile(expr) }

// Validate compiles the readyExprs of refs without evaluating anything, so a reconciler can
// stall on an invalid expression before fetching dependencies. ns is the dependent's namespace.
func (c *Checker) Validate(ns string, refs []meta.DependencyReference) error {
	for _, ref := range refs {
		if ref.ReadyExpr == "" {
			continue
		}
		if _, err := c.comp.compile(ref.ReadyExpr); err != nil {
			return withDependency(err, depName(ns, ref))
		}
	}
	return nil
}

// Check returns nil when every dependency is ready. Otherwise it returns, in this order of
// precedence: an *InvalidExprError for the first readyExpr that does not compile, a *CycleError
// when the dependent depends on itself, or a *NotReadyError for the first dependency (in spec
// order) that is missing or not ready.
func (c *Checker) Check(dependent *unstructured.Unstructured, deps []Dep) error {
	ns := dependent.GetNamespace()
	self := types.NamespacedName{Namespace: ns, Name: dependent.GetName()}
	exprs := make([]*ReadyExpr, len(deps))
	for i := range deps {
		name := depName(ns, deps[i].Ref)
		if name == self {
			return &CycleError{Cycle: []types.NamespacedName{self, self}}
		}
		if deps[i].Ref.ReadyExpr == "" {
			continue
		}
		x, err := c.comp.compile(deps[i].Ref.ReadyExpr)
		if err != nil {
			return withDependency(err, name)
		}
		exprs[i] = x
	}
	for i := range deps {
		if err := c.checkOne(dependent, depName(ns, deps[i].Ref), &deps[i], exprs[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkOne checks a single dependency; x is its compiled readyExpr or nil.
func (c *Checker) checkOne(dependent *unstructured.Unstructured, name types.NamespacedName, d *Dep, x *ReadyExpr) error {
	if d.Obj == nil {
		return &NotReadyError{Dependency: name, msg: fmt.Sprintf("dependency '%s' not found", name)}
	}
	if x != nil {
		ok, err := x.Eval(dependent, d.Obj)
		if err != nil {
			return &NotReadyError{Dependency: name, err: err,
				msg: fmt.Sprintf("dependency '%s': evaluating readyExpr '%s': %v", name, x.text, err)}
		}
		if !ok {
			return &NotReadyError{Dependency: name,
				msg: fmt.Sprintf("dependency '%s' is not ready according to readyExpr '%s'", name, x.text)}
		}
		if !c.additive {
			return nil
		}
	}
	if !builtinReady(d.Obj.Object) {
		return &NotReadyError{Dependency: name, msg: fmt.Sprintf("dependency '%s' is not ready", name)}
	}
	if d.Revision != "" {
		applied, _, _ := unstructured.NestedString(d.Obj.Object, "status", "lastAppliedRevision")
		if applied != d.Revision {
			return &NotReadyError{Dependency: name,
				msg: fmt.Sprintf("dependency '%s' revision is not up to date: applied '%s', source has '%s'", name, applied, d.Revision)}
		}
	}
	return nil
}

// builtinReady is Flux's default readiness: conditions present, observedGeneration equal to
// generation, and Ready=True.
func builtinReady(obj map[string]any) bool {
	status, _ := obj["status"].(map[string]any)
	conds, _ := status["conditions"].([]any)
	if len(conds) == 0 {
		return false
	}
	gen, _, _ := unstructured.NestedInt64(obj, "metadata", "generation")
	obs, _, _ := unstructured.NestedInt64(obj, "status", "observedGeneration")
	if obs != gen {
		return false
	}
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == meta.ReadyCondition {
			return m["status"] == "True"
		}
	}
	return false
}

// depName resolves a reference against the dependent's namespace.
func depName(ns string, ref meta.DependencyReference) types.NamespacedName {
	if ref.Namespace != "" {
		ns = ref.Namespace
	}
	return types.NamespacedName{Namespace: ns, Name: ref.Name}
}

// withDependency names the dependency in an *InvalidExprError.
func withDependency(err error, name types.NamespacedName) error {
	if ie, ok := err.(*InvalidExprError); ok {
		cp := *ie
		cp.Dependency = name
		return &cp
	}
	return err
}
