package setters

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// source is a YAML file's bytes with the positions the parser reports mapped back to offsets.
type source struct {
	data       []byte
	lineStarts []int // byte offset of each line (index 0 = line 1)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// newSource indexes line starts with the line breaks the YAML scanner counts: \n, \r\n, \r,
// NEL (U+0085), LS (U+2028) and PS (U+2029). The scanner drops a leading BOM before counting.
func newSource(data []byte) *source {
	s := &source{data: data}
	start := 0
	if bytes.HasPrefix(data, utf8BOM) {
		start = len(utf8BOM)
	}
	s.lineStarts = append(s.lineStarts, start)
	for i := start; i < len(data); {
		switch {
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			i += 2
		case data[i] == '\n' || data[i] == '\r':
			i++
		case bytes.HasPrefix(data[i:], []byte("\u0085")), bytes.HasPrefix(data[i:], []byte("\u2028")), bytes.HasPrefix(data[i:], []byte("\u2029")):
			_, size := utf8.DecodeRune(data[i:])
			i += size
		default:
			i++
			continue
		}
		s.lineStarts = append(s.lineStarts, i)
	}
	return s
}

// offset turns a 1-based line and 1-based column (counted in characters) into a byte offset.
func (s *source) offset(line, col int) (int, error) {
	if line < 1 || line > len(s.lineStarts) || col < 1 {
		return 0, fmt.Errorf("position %d:%d is outside the file", line, col)
	}
	off := s.lineStarts[line-1]
	for c := 1; c < col; c++ {
		if off >= len(s.data) {
			return 0, fmt.Errorf("position %d:%d is outside the file", line, col)
		}
		_, size := utf8.DecodeRune(s.data[off:])
		off += size
	}
	return off, nil
}

// span is the bytes [start, end) of a scalar in the source.
type span struct{ start, end int }

// scalarSpan finds the bytes of scalar node n: after its anchor and tag, through its closing
// quote. It verifies the bytes decode to n.Value, so a wrong position is an error, never a
// corrupted file.
func (s *source) scalarSpan(n *yaml.Node) (span, error) {
	start, err := s.offset(n.Line, n.Column)
	if err != nil {
		return span{}, err
	}
	start = s.skipProperties(start)
	var end int
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return span{}, errors.New("block scalars (| or >) are not supported for setters")
	case n.Style&yaml.DoubleQuotedStyle != 0:
		end, err = s.quotedEnd(start, '"')
	case n.Style&yaml.SingleQuotedStyle != 0:
		end, err = s.quotedEnd(start, '\'')
	default:
		end = start + len(n.Value)
		if end > len(s.data) || string(s.data[start:end]) != n.Value {
			return span{}, errors.New("a plain scalar spread over several lines is not supported for setters")
		}
		return span{start, end}, nil
	}
	if err != nil {
		return span{}, err
	}
	var decoded string
	if err := yaml.Unmarshal(s.data[start:end], &decoded); err != nil || decoded != n.Value {
		return span{}, errors.New("could not locate the quoted value in the file")
	}
	return span{start, end}, nil
}

// skipProperties moves past "&anchor " and "!tag " in front of a scalar.
func (s *source) skipProperties(off int) int {
	for off < len(s.data) && (s.data[off] == '&' || s.data[off] == '!') {
		for off < len(s.data) && !isSpace(s.data[off]) {
			off++
		}
		for off < len(s.data) && isSpace(s.data[off]) {
			off++
		}
	}
	return off
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }

// quotedEnd returns the offset just past the closing quote of a quoted scalar starting at off.
func (s *source) quotedEnd(off int, quote byte) (int, error) {
	if off >= len(s.data) || s.data[off] != quote {
		return 0, errors.New("could not locate the quoted value in the file")
	}
	for i := off + 1; i < len(s.data); i++ {
		switch {
		case quote == '"' && s.data[i] == '\\':
			i++ // the escaped character
		case s.data[i] == quote:
			if quote == '\'' && i+1 < len(s.data) && s.data[i+1] == '\'' {
				i++ // '' is an escaped quote
				continue
			}
			return i + 1, nil
		}
	}
	return 0, errors.New("unterminated quoted value")
}

// render writes value in the style of the scalar it replaces. A plain scalar stays plain
// unless the new value would read back as something else (a number, a boolean, or text with
// YAML syntax in it): then it is double-quoted, so "1.10" does not become the float 1.1.
func render(value string, style yaml.Style, inFlow bool) (string, error) {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		return encodeScalar(value, yaml.DoubleQuotedStyle)
	case style&yaml.SingleQuotedStyle != 0:
		return encodeScalar(value, yaml.SingleQuotedStyle)
	}
	plain, err := encodeScalar(value, 0)
	if err != nil {
		return "", err
	}
	if plain == value && !(inFlow && strings.ContainsAny(value, ",[]{}")) {
		return plain, nil
	}
	return encodeScalar(value, yaml.DoubleQuotedStyle)
}

// encodeScalar serialises one string scalar with the YAML encoder.
func encodeScalar(value string, style yaml.Style) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: value}); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	out := strings.TrimSuffix(buf.String(), "\n")
	if strings.ContainsAny(out, "\n\r") {
		return "", fmt.Errorf("value %q cannot be written on one line", value)
	}
	return out, nil
}
