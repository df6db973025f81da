package health

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// costLimit bounds the work one expression evaluation may do: expressions come from users and
// run for every matching object on every reconcile, so a runaway one must not hold a worker.
// Realistic checks (filtering a handful of conditions) cost well under 1000; one million, the
// per-call limit Kubernetes uses for validation rules, measured above one second here.
const costLimit = 100_000

// maxListRange bounds lists.range(n), which allocates its list before the cost limit applies.
const maxListRange = 1000

// maxCachedPrograms bounds the program cache. Expressions come from specs, so the number of
// distinct ones is small, but edits accumulate; when the bound is reached the cache restarts.
const maxCachedPrograms = 4096

// Compiler compiles health check expressions and caches the programs by expression text, so the
// Evaluators of all Kustomizations of a controller share one compilation per distinct
// expression. It is safe for concurrent use; a controller builds one at start-up.
type Compiler struct {
	env *cel.Env

	mu    sync.RWMutex
	progs map[string]cel.Program
}

// NewCompiler returns a Compiler with the CEL environment health check expressions run in.
func NewCompiler() (*Compiler, error) {
	opts := []cel.EnvOption{
		cel.Variable("apiVersion", cel.StringType),
		cel.Variable("kind", cel.StringType),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		ext.Strings(),
		ext.Lists(ext.ListsMaxRangeSize(maxListRange)),
		ext.Sets(),
		ext.Encoders(),
		ext.Math(),
	}
	// The object's top-level fields are CEL variables so expressions read like Flux's documented
	// examples (status.conditions.filter(...)); self (the whole object, as in Kubernetes CEL
	// validation rules) is an addition.
	for _, v := range []string{"self", "metadata", "spec", "status", "data"} {
		opts = append(opts, cel.Variable(v, cel.DynType))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating CEL environment for health checks: %w", err)
	}
	return &Compiler{env: env, progs: map[string]cel.Program{}}, nil
}

// compile returns the program for expr, compiling it on first use. The expression must yield a
// bool (or dyn, checked when evaluated).
func (c *Compiler) compile(expr string) (cel.Program, error) {
	c.mu.RLock()
	prg, ok := c.progs[expr]
	c.mu.RUnlock()
	if ok {
		return prg, nil
	}
	ast, iss := c.env.Compile(expr)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if k := ast.OutputType().Kind(); k != types.BoolKind && k != types.DynKind {
		return nil, fmt.Errorf("expression must evaluate to bool, got %s", ast.OutputType())
	}
	prg, err := c.env.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.progs) >= maxCachedPrograms {
		c.progs = map[string]cel.Program{}
	}
	c.progs[expr] = prg
	c.mu.Unlock()
	return prg, nil
}

// boolExpr is a compiled expression together with its text for messages.
type boolExpr struct {
	text string
	prg  cel.Program
}

// eval runs the expression against obj's fields.
func (b *boolExpr) eval(obj map[string]any) (bool, error) {
	out, _, err := b.prg.Eval(objActivation(obj))
	if err != nil {
		return false, err
	}
	v, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("expression returned %s, not bool", out.Type().TypeName())
	}
	return v, nil
}

// objActivation binds the object's top-level fields and self without copying the object.
type objActivation map[string]any

// ResolveName implements interpreter.Activation.
func (a objActivation) ResolveName(name string) (any, bool) {
	if name == "self" {
		return map[string]any(a), true
	}
	v, ok := a[name]
	return v, ok
}

// Parent implements interpreter.Activation.
func (objActivation) Parent() interpreter.Activation { return nil }
