package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SOPS reads and writes YAML through yaml.v3's node API, keeping comments
// as entries of the tree (so they can be encrypted) and writing with an
// indent of 4. The same library and the same placement of comments give
// the same output as `sops --decrypt`.

const yamlIndent = 4

// yamlLoader turns yaml.v3 nodes into mappings. budget bounds the number
// of values made, since aliases repeat their anchor's whole subtree: a few
// lines can otherwise expand into billions of values.
type yamlLoader struct {
	budget int
}

var errYAMLAliases = errors.New("the YAML document expands into too many values through aliases")

// loadYAML parses a YAML stream, one mapping per document.
func loadYAML(data []byte) ([]mapping, error) {
	if len(data) > 0 {
		// Decoding into a map is what makes yaml.v3 reject duplicate keys
		// (of the first document, as SOPS checks).
		if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(make(map[string]any)); err != nil {
			return nil, err
		}
	}
	l := &yamlLoader{budget: 16*len(data) + 1<<16}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []mapping
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		m, err := l.appendNode(&n, make(mapping, 0), false)
		if err != nil {
			return nil, err
		}
		docs = append(docs, m)
	}
}

// spend counts one value against the budget.
func (l *yamlLoader) spend() error {
	l.budget--
	if l.budget < 0 {
		return errYAMLAliases
	}
	return nil
}

// commentLines splits a yaml.v3 comment into comment values: one per
// non-empty line, without its leading '#'.
func commentLines(text string, inline bool, emit func(comment)) {
	if text == "" {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		if line != "" {
			emit(comment{text: line[1:], inline: inline})
		}
	}
}

func (m mapping) withComments(text string, inline bool) mapping {
	commentLines(text, inline, func(c comment) { m = append(m, entry{key: c}) })
	return m
}

func listWithComments(l []any, text string, inline bool) []any {
	commentLines(text, inline, func(c comment) { l = append(l, c) })
	return l
}

// appendNode adds a document or mapping node's entries to m. A node's own
// head, line and foot comments go around its entries unless the caller
// has placed them (handled).
func (l *yamlLoader) appendNode(n *yaml.Node, m mapping, handled bool) (mapping, error) {
	if !handled {
		m = m.withComments(n.HeadComment, false).withComments(n.LineComment, false)
	}
	var err error
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if m, err = l.appendNode(c, m, false); err != nil {
				return nil, err
			}
		}
	case yaml.SequenceNode:
		return nil, errors.New("YAML documents that are sequences are not supported")
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if m, err = l.appendPair(n.Content[i], n.Content[i+1], m); err != nil {
				return nil, err
			}
		}
	case yaml.ScalarNode:
		// An empty document ("---" alone) is null: no entries.
		if n.ShortTag() != "!!null" {
			return nil, errors.New("YAML documents that are values are not supported")
		}
		return m, nil
	case yaml.AliasNode:
		if m, err = l.appendNode(n.Alias, m, false); err != nil {
			return nil, err
		}
	}
	if !handled {
		m = m.withComments(n.FootComment, false)
	}
	return m, nil
}

// appendPair adds one key and its value, with the comments around them:
// the key's head and line comments before, the key's foot comment after;
// a scalar value's comments too (its line comment as an inline comment).
func (l *yamlLoader) appendPair(k, v *yaml.Node, m mapping) (mapping, error) {
	if err := l.spend(); err != nil {
		return nil, err
	}
	m = m.withComments(k.HeadComment, false).withComments(k.LineComment, false)
	scalarValue := v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode
	if scalarValue {
		m = m.withComments(v.HeadComment, false).withComments(v.LineComment, true)
	}
	var key any
	_ = k.Decode(&key)
	value, err := l.value(v, scalarValue)
	if err != nil {
		return nil, err
	}
	m = append(m, entry{key: key, value: value})
	if scalarValue {
		m = m.withComments(v.FootComment, false)
	}
	return m.withComments(k.FootComment, false), nil
}

// value converts a value node. Scalars decode as yaml.v3 decodes into
// interface{} (a scalar that does not decode is null, as in SOPS).
func (l *yamlLoader) value(n *yaml.Node, handled bool) (any, error) {
	if err := l.spend(); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.SequenceNode:
		var out []any
		if !handled {
			out = listWithComments(out, n.HeadComment, false)
			out = listWithComments(out, n.LineComment, false)
		}
		for _, item := range n.Content {
			out = listWithComments(out, item.HeadComment, false)
			out = listWithComments(out, item.LineComment, true)
			v, err := l.value(item, true)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			out = listWithComments(out, item.FootComment, false)
		}
		if !handled {
			out = listWithComments(out, n.FootComment, false)
		}
		return out, nil
	case yaml.MappingNode:
		return l.appendNode(n, make(mapping, 0), handled)
	case yaml.ScalarNode:
		var v any
		_ = n.Decode(&v)
		return v, nil
	case yaml.AliasNode:
		return l.value(n.Alias, false)
	case yaml.DocumentNode:
		return nil, fmt.Errorf("a YAML document inside a document")
	}
	return nil, nil
}

// emitYAML writes the documents as SOPS does: a stream of mappings with
// comment entries turned back into head, line and foot comments.
func emitYAML(docs []mapping) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(yamlIndent)
	for _, m := range docs {
		root := &yaml.Node{Kind: yaml.MappingNode}
		appendMappingNodes(m, root)
		if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func valueNode(v any) *yaml.Node {
	switch v := v.(type) {
	case mapping:
		n := &yaml.Node{Kind: yaml.MappingNode}
		appendMappingNodes(v, n)
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		appendSequenceNodes(v, n)
		return n
	}
	n := &yaml.Node{}
	_ = n.Encode(encodable(v))
	return n
}

// pendingComments collects comment entries until the node they attach to.
type pendingComments struct {
	head, inline []string
}

func (p *pendingComments) add(c comment) {
	if c.inline {
		p.inline = append(p.inline, c.text)
	} else {
		p.head = append(p.head, c.text)
	}
}

// joinComments turns comment values back into yaml.v3 comment text.
func joinComments(lines []string) string {
	return "#" + strings.Join(lines, "\n#")
}

func prependHead(n *yaml.Node, lines []string) {
	if len(lines) == 0 {
		return
	}
	if n.HeadComment != "" {
		n.HeadComment = joinComments(lines) + "\n" + n.HeadComment
	} else {
		n.HeadComment = joinComments(lines)
	}
}

func appendTo(field *string, lines []string) {
	if len(lines) == 0 {
		return
	}
	if *field != "" {
		*field += "\n" + joinComments(lines)
	} else {
		*field = joinComments(lines)
	}
}

// appendMappingNodes fills a mapping node: comments before the first key
// become the mapping's head comment, later ones the next key's head
// comment, inline ones the next value's line comment, and what is left at
// the end the last key's foot comment.
func appendMappingNodes(m mapping, n *yaml.Node) {
	var p pendingComments
	first := true
	for _, e := range m {
		if c, ok := e.key.(comment); ok {
			p.add(c)
			continue
		}
		if first {
			prependHead(n, p.head)
			p.head, first = nil, false
		}
		k := &yaml.Node{}
		_ = k.Encode(e.key)
		prependHead(k, p.head)
		v := valueNode(e.value)
		appendTo(&v.LineComment, p.inline)
		p.head, p.inline = nil, nil
		n.Content = append(n.Content, k, v)
	}
	rest := append(p.head, p.inline...)
	switch {
	case len(rest) == 0:
	case first:
		prependHead(n, rest)
	default:
		appendTo(&n.Content[len(n.Content)-2].FootComment, rest)
	}
}

// appendSequenceNodes is appendMappingNodes for lists.
func appendSequenceNodes(l []any, n *yaml.Node) {
	var p pendingComments
	first := true
	for _, e := range l {
		if c, ok := e.(comment); ok {
			p.add(c)
			continue
		}
		if first {
			prependHead(n, p.head)
			p.head, first = nil, false
		}
		v := valueNode(e)
		prependHead(v, p.head)
		appendTo(&v.LineComment, p.inline)
		p.head, p.inline = nil, nil
		n.Content = append(n.Content, v)
	}
	rest := append(p.head, p.inline...)
	switch {
	case len(rest) == 0:
	case first:
		prependHead(n, rest)
	default:
		appendTo(&n.Content[len(n.Content)-1].FootComment, rest)
	}
}
