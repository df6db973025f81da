package substitute

import (
	"maps"
	"slices"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// The exact way to substitute into an object held as a map is upstream's:
// render it as YAML, expand the text, parse the result (see applyText).
// Rendering and parsing dominate the cost (hundreds of microseconds for a
// Deployment), while all that changes are a few strings. substituteFast
// computes the same result by expanding only the strings that contain "${"
// and re-typing each result as the YAML parser would have read it where it
// was rendered. It handles the common cases - a string that the renderer
// writes as a plain scalar, expanded to a single-line value - and reports
// anything else (and every error) as "not handled", so the caller falls back
// to the exact path. The two paths are checked against each other by tests
// and by FuzzFastPath.

// fastWalker carries one object's fast substitution.
type fastWalker struct {
	vars map[string]string
	opts Options
}

// substituteFast returns the substituted object, or ok=false when the exact
// path must decide (unusual strings, any error). It never modifies m: maps
// and slices on the way to a changed string are copied, the rest is shared.
func substituteFast(m map[string]any, vars map[string]string, opts Options) (map[string]any, bool) {
	w := fastWalker{vars: vars, opts: opts}
	out, _, ok := w.mapping(m)
	return out, ok
}

func (w *fastWalker) value(v any) (any, bool, bool) {
	switch v := v.(type) {
	case string:
		if !strings.Contains(v, "${") {
			return v, false, true
		}
		return w.scalar(v)
	case map[string]any:
		return w.mapping(v)
	case []any:
		var out []any
		for i, e := range v {
			ne, changed, ok := w.value(e)
			if !ok {
				return nil, false, false
			}
			if changed {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = ne
			}
		}
		if out != nil {
			return out, true, true
		}
	}
	return v, false, true
}

func (w *fastWalker) mapping(m map[string]any) (map[string]any, bool, bool) {
	var out map[string]any
	for k, e := range m {
		if strings.Contains(k, "${") {
			return nil, false, false // keys are rare; the exact path types them
		}
		ne, changed, ok := w.value(e)
		if !ok {
			return nil, false, false
		}
		if changed {
			if out == nil {
				out = maps.Clone(m)
			}
			out[k] = ne
		}
	}
	if out != nil {
		return out, true, true
	}
	return m, false, true
}

// scalar expands one string value and types the result.
func (w *fastWalker) scalar(s string) (any, bool, bool) {
	if !rendersPlain(s) {
		return nil, false, false
	}
	res, err := Expand(s, w.vars, w.opts)
	if err != nil {
		return nil, false, false
	}
	if isPlainString(res) {
		return res, true, true
	}
	if i, ok := decimalInt(res); ok {
		return i, true, true
	}
	if !contextFree(res) {
		return nil, false, false
	}
	// The result is read as the YAML parser reads "key: <res>" - which is
	// how the exact path sees it, whether the string sits in a mapping or
	// a sequence, as contextFree guarantees.
	j, err := yaml.YAMLToJSON([]byte("v: " + res))
	if err != nil {
		return nil, false, false
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		return nil, false, false
	}
	v, ok := m["v"]
	return v, ok, ok
}

// decimalInt recognizes the plain decimal integers YAML reads as int64
// (no sign, no leading zero, at most 18 digits).
func decimalInt(res string) (int64, bool) {
	if res == "" || len(res) > 18 || res[0] == '0' && len(res) > 1 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(res); i++ {
		c := res[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// rendersPlain reports whether the renderer (sigs.k8s.io/yaml, that is
// go.yaml.in/yaml/v2 in block style) writes s, a string containing "${", as
// a plain scalar on one line, so that the text the exact path expands is s
// itself. It follows the emitter's rules and says no whenever unsure: only
// printable ASCII, no leading or trailing space, no indicator at the start,
// no ": " or " #", no document marker. (Strings containing "${" never
// resolve to another type, so the renderer never quotes them for that.)
func rendersPlain(s string) bool {
	if s == "" || strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	switch s[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '?', ':', '-':
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		if c == ':' && (i+1 == len(s) || s[i+1] == ' ') {
			return false
		}
		if c == '#' && s[i-1] == ' ' { // i > 0: s[0] is not '#'
			return false
		}
	}
	return true
}

// isPlainString reports whether the YAML parser reads res, as the plain
// scalar "key: <res>", as exactly the string res: it starts with a letter
// (or is a digit-led word no number or date can be), uses only characters
// without meaning to YAML, and is not one of the YAML 1.1 words for booleans
// and null. Anything else is left to the parser.
func isPlainString(res string) bool {
	if res == "" {
		return false
	}
	c := res[0]
	letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	// A value starting with a digit may be a number or a date, unless it
	// has a letter none of those can hold ("100m", "16Mi", "30s").
	if !letter && !(c >= '0' && c <= '9' && strings.ContainsAny(res, "ghijklmnpqrsuvwyGHIJKLMNPQRSUVWY")) {
		return false
	}
	for i := 0; i < len(res); i++ {
		c := res[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == '/', c == '@', c == '=', c == '+':
		case c == ':':
			if i+1 == len(res) {
				return false
			}
		default:
			return false
		}
	}
	return !yaml11Words[res]
}

// yaml11Words are the plain scalars starting with a letter that
// go.yaml.in/yaml/v2 resolves to booleans or null.
var yaml11Words = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"true": true, "True": true, "TRUE": true, "false": true, "False": true, "FALSE": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
	"null": true, "Null": true, "NULL": true,
}

// contextFree reports whether "key: <res>" and "- <res>" (a value in a
// mapping and in a sequence, at any indentation) parse to the same value:
// one line, and nothing that turns a sequence item into a mapping or a
// nested sequence, or starts a block scalar.
func contextFree(res string) bool {
	if strings.ContainsAny(res, "\n\r\t") {
		return false
	}
	if strings.Contains(res, ": ") || strings.HasSuffix(res, ":") {
		return false
	}
	t := strings.TrimLeft(res, " ")
	if t == "-" || t == "?" || strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "? ") ||
		strings.HasPrefix(t, "|") || strings.HasPrefix(t, ">") {
		return false
	}
	return true
}
