package setters

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// FileChange is one marked field changed in a file, with the object it belongs to.
type FileChange struct {
	Object ObjectIdentifier
	Change
	// Line is the field's 1-based line.
	Line int
}

// Warning is a marked field that was left alone, with why (e.g. a block scalar).
type Warning struct {
	Line   int
	Setter string
	Reason string
}

// ParseError is a file that is not valid YAML; it is skipped, not fatal.
type ParseError struct{ Err error }

func (e *ParseError) Error() string { return e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// replacement is new bytes for a span of the source.
type replacement struct {
	span
	text string
}

// ApplyBytes sets the marked fields of one YAML file (any number of documents) from policies
// (keyed by Policy.Key). It returns the new content (data itself when nothing changed), the
// changes in file order and the markers it could not apply. A file that does not parse is a
// *ParseError.
func ApplyBytes(data []byte, policies map[string]Policy) ([]byte, []FileChange, []Warning, error) {
	if !bytes.Contains(data, []byte(MarkerKey)) {
		return data, nil, nil, nil
	}
	docs, err := decodeAll(data)
	if err != nil {
		return nil, nil, nil, &ParseError{Err: err}
	}
	src := newSource(data)
	var (
		repls    []replacement
		changes  []FileChange
		warnings []Warning
	)
	for _, doc := range docs {
		id := objectID(doc)
		walk(doc, false, func(n *yaml.Node, inFlow bool) {
			m, ok := parseMarker(n.LineComment)
			if !ok {
				return
			}
			p, ok := policies[m.policy]
			if !ok {
				return // a policy this automation does not select
			}
			value, ok := m.value(p)
			if !ok || value == n.Value {
				return
			}
			sp, err := src.scalarSpan(n)
			if err == nil {
				var text string
				if text, err = render(value, n.Style, inFlow); err == nil {
					repls = append(repls, replacement{span: sp, text: text})
					changes = append(changes, FileChange{Object: id, Line: n.Line,
						Change: Change{OldValue: n.Value, NewValue: value, Setter: m.setter}})
					return
				}
			}
			warnings = append(warnings, Warning{Line: n.Line, Setter: m.setter, Reason: err.Error()})
		})
	}
	if len(repls) == 0 {
		return data, nil, warnings, nil
	}
	out := splice(data, repls)
	// A safety net: never hand back bytes that no longer parse.
	if _, err := decodeAll(out); err != nil {
		return nil, nil, nil, fmt.Errorf("setting values would break the YAML (%v): file left unchanged", err)
	}
	return out, changes, warnings, nil
}

// decodeAll parses every document of a YAML stream.
func decodeAll(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &doc)
	}
}

// walk visits every scalar that can carry a marker. Alias nodes are not followed: the
// anchored value is visited where it is written.
func walk(n *yaml.Node, inFlow bool, visit func(n *yaml.Node, inFlow bool)) {
	switch n.Kind {
	case yaml.ScalarNode:
		visit(n, inFlow)
	case yaml.DocumentNode, yaml.SequenceNode:
		flow := inFlow || n.Style&yaml.FlowStyle != 0
		for _, c := range n.Content {
			walk(c, flow, visit)
		}
	case yaml.MappingNode:
		flow := inFlow || n.Style&yaml.FlowStyle != 0
		for i := 1; i < len(n.Content); i += 2 { // values only: keys are not set
			walk(n.Content[i], flow, visit)
		}
	}
}

// objectID reads apiVersion, kind, metadata.name and metadata.namespace of a document.
func objectID(doc *yaml.Node) ObjectIdentifier {
	var id ObjectIdentifier
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	get := func(m *yaml.Node, key string) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	str := func(n *yaml.Node) string {
		if n == nil || n.Kind != yaml.ScalarNode {
			return ""
		}
		return n.Value
	}
	id.APIVersion = str(get(root, "apiVersion"))
	id.Kind = str(get(root, "kind"))
	meta := get(root, "metadata")
	id.Name = str(get(meta, "name"))
	id.Namespace = str(get(meta, "namespace"))
	return id
}

// splice replaces non-overlapping spans, leaving every other byte as it was.
func splice(data []byte, repls []replacement) []byte {
	slices.SortFunc(repls, func(a, b replacement) int { return a.start - b.start })
	var out bytes.Buffer
	out.Grow(len(data))
	prev := 0
	for _, r := range repls {
		if r.start < prev {
			continue // cannot happen for distinct scalars; never write overlapping edits
		}
		out.Write(data[prev:r.start])
		out.WriteString(r.text)
		prev = r.end
	}
	out.Write(data[prev:])
	return out.Bytes()
}
