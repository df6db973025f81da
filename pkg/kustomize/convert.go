package kustomize

import (
	"fmt"
	"math"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resmap"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Kustomize holds objects as YAML node trees. They are converted straight into the JSON
// value types unstructured.Unstructured requires (map[string]any, []any, string, int64,
// float64, bool, nil) instead of rendering YAML text and parsing it again: the build cache
// makes this the hot path's only conversion. Scalars resolve as the usual YAML -> JSON path
// (sigs.k8s.io/yaml) resolves them; anything without a JSON equivalent (timestamps, binary,
// custom tags) stays a string.

// maxConvertNodes bounds the work of expanding YAML aliases: a "billion laughs" document is
// small as a tree but huge once expanded.
const maxConvertNodes = 1 << 24

// toUnstructured converts kustomize's output, in its order.
func toUnstructured(rm resmap.ResMap) ([]*unstructured.Unstructured, error) {
	res := rm.Resources()
	out := make([]*unstructured.Unstructured, 0, len(res))
	c := converter{budget: maxConvertNodes}
	for _, r := range res {
		v, err := c.value(r.YNode(), 0)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", r.CurId(), err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("object %s: not a YAML mapping", r.CurId())
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

type converter struct {
	budget int
}

func (c *converter) value(n *kyaml.Node, depth int) (any, error) {
	if c.budget--; c.budget < 0 {
		return nil, fmt.Errorf("too many YAML nodes (alias expansion)")
	}
	if depth > 10000 {
		return nil, fmt.Errorf("YAML nested too deeply")
	}
	switch n.Kind {
	case kyaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth+1)
	case kyaml.AliasNode:
		return c.value(n.Alias, depth+1)
	case kyaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case kyaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		return m, c.mapping(m, n, depth, false)
	case kyaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("unexpected YAML node kind %d", n.Kind)
}

// mapping fills m from mapping node n. Merge keys ("<<") contribute the keys of the merged
// mapping(s) that n does not set itself, as YAML 1.1 merge semantics say; keys are their
// scalar text, as JSON conversion renders them.
func (c *converter) mapping(m map[string]any, n *kyaml.Node, depth int, fromMerge bool) error {
	var merges []*kyaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == kyaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind == kyaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != kyaml.ScalarNode {
			return fmt.Errorf("line %d: non-scalar mapping key", k.Line)
		}
		if _, set := m[k.Value]; set && fromMerge {
			continue
		}
		val, err := c.value(v, depth+1)
		if err != nil {
			return err
		}
		m[k.Value] = val
	}
	for _, mv := range merges {
		for mv.Kind == kyaml.AliasNode && mv.Alias != nil {
			mv = mv.Alias
		}
		srcs := []*kyaml.Node{mv}
		if mv.Kind == kyaml.SequenceNode {
			srcs = mv.Content
		}
		for _, s := range srcs {
			for s.Kind == kyaml.AliasNode && s.Alias != nil {
				s = s.Alias
			}
			if s.Kind != kyaml.MappingNode {
				return fmt.Errorf("line %d: merge key value is not a mapping", s.Line)
			}
			if err := c.mapping(m, s, depth+1, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// scalar resolves a scalar by its (resolved) YAML tag.
func scalar(n *kyaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return n.Value, nil
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return float64(u), nil
		}
		return n.Value, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return n.Value, nil
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: %q has no JSON representation", n.Line, n.Value)
		}
		// Integral values become int64, as decoding the JSON rendering would make them.
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), nil
		}
		return f, nil
	}
	return n.Value, nil
}
