package dependency

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The variables a readyExpr sees, as documented by Flux: self is the object being reconciled
// (the dependent), dep the dependency.
const (
	selfVar = "self"
	depVar  = "dep"
)

// costLimit bounds one evaluation: expressions come from users and run on every reconcile of
// the dependent, so a runaway one must not hold a worker. Realistic expressions (a few field
// comparisons and a condition filter) cost well under 1000.
const costLimit = 100_000

// maxListRange bounds lists.range(n), which allocates its list before the cost limit applies.
const maxListRange = 1000

// maxCachedExprs bounds the expression cache; when reached the cache restarts.
const maxCachedExprs = 4096

// ReadyExpr is a compiled readyExpr. It is safe for concurrent use.
type ReadyExpr struct {
	text string
	prg  cel.Program
}

// String returns the expression text.
func (r *ReadyExpr) String() string { return r.text }

// Eval evaluates the expression with self bound to dependent and dep to dependency. A result
// that is not a bool is an error.
func (r *ReadyExpr) Eval(dependent, dependency *unstructured.Unstructured) (bool, error) {
	vars := map[string]any{selfVar: dependent.Object, depVar: dependency.Object}
	out, _, err := r.prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("returned %s, not bool", out.Type().TypeName())
	}
	return b, nil
}

// compiler owns the CEL environment and caches compiled expressions by text (readyExprs repeat
// across objects and reconciles); safe for concurrent use.
type compiler struct {
	env *cel.Env

	mu    sync.RWMutex
	exprs map[string]*ReadyExpr
}

func newCompiler() (*compiler, error) {
	env, err := cel.NewEnv(
		cel.Variable(selfVar, cel.DynType),
		cel.Variable(depVar, cel.DynType),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		ext.Strings(),
		ext.Lists(ext.ListsMaxRangeSize(maxListRange)),
		ext.Sets(),
		ext.Encoders(),
		ext.Math(),
	)
	if err != nil {
		return nil, fmt.Errorf("creating CEL environment for readyExpr: %w", err)
	}
	return &compiler{env: env, exprs: map[string]*ReadyExpr{}}, nil
}

// compile returns the compiled expression, compiling it on first use. Errors are
// *InvalidExprError without a dependency name.
func (c *compiler) compile(expr string) (*ReadyExpr, error) {
	c.mu.RLock()
	r, ok := c.exprs[expr]
	c.mu.RUnlock()
	if ok {
		return r, nil
	}
	ast, iss := c.env.Compile(expr)
	if iss.Err() != nil {
		return nil, &InvalidExprError{Expr: expr, Err: iss.Err()}
	}
	if k := ast.OutputType().Kind(); k != types.BoolKind && k != types.DynKind {
		return nil, &InvalidExprError{Expr: expr, Err: fmt.Errorf("expression must evaluate to bool, got %s", ast.OutputType())}
	}
	prg, err := c.env.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, &InvalidExprError{Expr: expr, Err: err}
	}
	r = &ReadyExpr{text: expr, prg: prg}
	c.mu.Lock()
	if len(c.exprs) >= maxCachedExprs {
		c.exprs = map[string]*ReadyExpr{}
	}
	c.exprs[expr] = r
	c.mu.Unlock()
	return r, nil
}
