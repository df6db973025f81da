package dependency

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// NotReadyError means a dependency is missing or not ready yet. The reconciler reports it as
// Ready=False/DependencyNotReady and requeues after --requeue-dependency; a watch on the
// dependency usually wakes it earlier.
type NotReadyError struct {
	// Dependency is the namespace/name of the dependency.
	Dependency types.NamespacedName
	msg        string
	err        error
}

func (e *NotReadyError) Error() string { return e.msg }

// Unwrap returns the CEL evaluation error, if that is why the dependency is not ready.
func (e *NotReadyError) Unwrap() error { return e.err }

// InvalidExprError means a readyExpr does not compile or cannot yield a bool. Retrying cannot
// help, so the reconciler stalls (Stalled=True, reason InvalidCELExpression) until the spec
// changes.
type InvalidExprError struct {
	// Dependency is the namespace/name of the dependency whose readyExpr is invalid; empty when
	// the expression was compiled on its own.
	Dependency types.NamespacedName
	Expr       string
	Err        error
}

func (e *InvalidExprError) Error() string {
	if e.Dependency.Name == "" {
		return fmt.Sprintf("invalid readyExpr '%s': %v", e.Expr, e.Err)
	}
	return fmt.Sprintf("invalid readyExpr '%s' for dependency '%s': %v", e.Expr, e.Dependency, e.Err)
}

func (e *InvalidExprError) Unwrap() error { return e.Err }

// CycleError reports a dependency cycle. Cycle lists the objects along it, with the first
// repeated at the end (a -> b -> a). Like an invalid expression, a cycle stalls: the objects
// would otherwise wait for each other forever.
type CycleError struct {
	Cycle []types.NamespacedName
}

func (e *CycleError) Error() string {
	parts := make([]string, len(e.Cycle))
	for i, n := range e.Cycle {
		parts[i] = n.String()
	}
	return "circular dependency: " + strings.Join(parts, " -> ")
}
