package receiver

import (
	"context"
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

// Query asks the caller for objects: one by Name, or (Name empty) every object of the kind
// in the namespace whose labels include MatchLabels.
type Query struct {
	APIVersion, Kind, Namespace, Name string
	MatchLabels                       map[string]string
}

// ListFunc answers a Query with the objects' unstructured content (apiVersion, kind,
// metadata, spec, status). A missing named object is an error.
type ListFunc func(ctx context.Context, q Query) ([]map[string]any, error)

// Target is an object to reconcile.
type Target struct {
	APIVersion, Kind, Namespace, Name string
}

type resourceRule struct {
	query  Query
	filter cel.Program // nil when the resource has no filter
}

// Selector is a Receiver's compiled spec.resources and spec.resourceFilter.
type Selector struct {
	rules  []resourceRule
	filter cel.Program
}

func celEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("res", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("req", cel.MapType(cel.StringType, cel.DynType)),
	)
}

// FilterError is an invalid CEL filter: a resource's filter or spec.resourceFilter.
type FilterError struct {
	// Field names the filter, e.g. `spec.resources[0].filter`.
	Field string
	Err   error
}

func (e *FilterError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FilterError) Unwrap() error { return e.Err }

func compileFilter(env *cel.Env, expr, field string) (cel.Program, error) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, &FilterError{Field: field, Err: iss.Err()}
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, &FilterError{Field: field, Err: fmt.Errorf("must evaluate to a bool, not %s", t)}
	}
	prg, err := env.Program(ast, cel.CostLimit(1_000_000))
	if err != nil {
		return nil, &FilterError{Field: field, Err: err}
	}
	return prg, nil
}

// NewSelector compiles a Receiver's resources. It refuses a matchLabels with a name other
// than `*`, a missing kind or name, and, with noCrossNamespaceRefs
// (--no-cross-namespace-refs), a resource in another namespace.
func NewSelector(rcv *apiv1.Receiver, noCrossNamespaceRefs bool) (*Selector, error) {
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	s := &Selector{}
	if rcv.Spec.ResourceFilter != "" {
		if s.filter, err = compileFilter(env, rcv.Spec.ResourceFilter, "spec.resourceFilter"); err != nil {
			return nil, err
		}
	}
	for i, r := range rcv.Spec.Resources {
		field := fmt.Sprintf("spec.resources[%d]", i)
		if r.Kind == "" || r.Name == "" {
			return nil, fmt.Errorf("%s: kind and name are required", field)
		}
		if len(r.MatchLabels) > 0 && r.Name != "*" {
			return nil, fmt.Errorf("%s: name must be '*' when matchLabels is set", field)
		}
		ns := r.Namespace
		if ns == "" {
			ns = rcv.Namespace
		}
		if noCrossNamespaceRefs && ns != rcv.Namespace {
			return nil, fmt.Errorf("%s: cross-namespace reference to %s %s/%s is not allowed (--no-cross-namespace-refs)", field, r.Kind, ns, r.Name)
		}
		rule := resourceRule{query: Query{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: ns, MatchLabels: r.MatchLabels}}
		if r.Name != "*" {
			rule.query.Name = r.Name
		}
		if r.Filter != "" {
			if rule.filter, err = compileFilter(env, r.Filter, field+".filter"); err != nil {
				return nil, err
			}
		}
		s.rules = append(s.rules, rule)
	}
	return s, nil
}

// Select lists the objects of every resource and keeps those passing the resource's filter
// and spec.resourceFilter, each once. The filters see the object as `res` and the webhook
// payload (when it is a JSON object) as `req`.
func (s *Selector) Select(ctx context.Context, list ListFunc, payload []byte) ([]Target, error) {
	req, err := ParseJSONObject(payload)
	if err != nil {
		req = map[string]any{}
	}
	var out []Target
	seen := map[Target]bool{}
	for _, rule := range s.rules {
		objs, err := list(ctx, rule.query)
		if err != nil {
			return nil, fmt.Errorf("listing %s %s/%s: %w", rule.query.Kind, rule.query.Namespace, nameOrAll(rule.query.Name), err)
		}
		for _, obj := range objs {
			t := targetOf(obj, rule.query)
			if seen[t] {
				continue
			}
			vars := map[string]any{"res": obj, "req": req}
			ok, err := passes(rule.filter, vars)
			if err != nil {
				return nil, fmt.Errorf("filter of %s %s/%s: %w", t.Kind, t.Namespace, t.Name, err)
			}
			if ok {
				if ok, err = passes(s.filter, vars); err != nil {
					return nil, fmt.Errorf("spec.resourceFilter on %s %s/%s: %w", t.Kind, t.Namespace, t.Name, err)
				}
			}
			if ok {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out, nil
}

func nameOrAll(n string) string {
	if n == "" {
		return "*"
	}
	return n
}

func passes(prg cel.Program, vars map[string]any) (bool, error) {
	if prg == nil {
		return true, nil
	}
	v, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	if v.Type() != types.BoolType {
		return false, fmt.Errorf("evaluated to %s, not a bool", v.Type())
	}
	return v.Value().(bool), nil
}

func targetOf(obj map[string]any, q Query) Target {
	t := Target{APIVersion: q.APIVersion, Kind: q.Kind, Namespace: q.Namespace}
	if v, ok := obj["apiVersion"].(string); ok && v != "" {
		t.APIVersion = v
	}
	if meta, ok := obj["metadata"].(map[string]any); ok {
		if n, ok := meta["name"].(string); ok {
			t.Name = n
		}
		if ns, ok := meta["namespace"].(string); ok && ns != "" {
			t.Namespace = ns
		}
	}
	return t
}
