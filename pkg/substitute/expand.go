package substitute

import (
	"fmt"
	"slices"
	"strings"
)

// Options controls how expressions are evaluated.
type Options struct {
	// Strict makes an unset variable without a default an error instead of
	// the empty string.
	Strict bool
}

// maxDepth bounds the nesting of expressions inside defaults and patterns, so
// that hostile input cannot recurse without limit.
const maxDepth = 32

// UnsetError reports the variables that were used without a value and without
// a default while substituting in strict mode.
type UnsetError struct {
	// Names lists the variables in order of first use.
	Names []string
}

func (e *UnsetError) Error() string {
	if len(e.Names) == 1 {
		return fmt.Sprintf("variable '%s' has no value and no default (strict substitution)", e.Names[0])
	}
	return fmt.Sprintf("variables '%s' have no value and no default (strict substitution)", strings.Join(e.Names, "', '"))
}

// Expand returns s with every ${...} expression evaluated against vars and
// every $${ escape turned into ${. See the package documentation for the
// syntax. In strict mode, unset variables without a default produce an
// *UnsetError listing all of them.
func Expand(s string, vars map[string]string, opts Options) (string, error) {
	if strings.IndexByte(s, '$') < 0 {
		return s, nil
	}
	p := parser{s: s, vars: vars, strict: opts.Strict}
	out, err := p.sequence("", true, 0)
	if err != nil {
		return "", err
	}
	if len(p.missing) > 0 {
		return "", &UnsetError{Names: p.missing}
	}
	return out, nil
}

// parser evaluates one string in a single left-to-right pass. Parsing and
// evaluation are fused: sub-expressions whose value is not needed (a default
// when the variable is set) are parsed with eval=false, which checks their
// syntax but neither looks variables up nor builds output.
type parser struct {
	s       string
	i       int
	vars    map[string]string
	strict  bool
	missing []string
}

// sequence consumes literal text, escapes and expressions until EOF or one of
// the stop bytes (left unconsumed), returning the expanded text.
func (p *parser) sequence(stops string, eval bool, depth int) (string, error) {
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		if strings.IndexByte(stops, c) >= 0 {
			break
		}
		if c != '$' {
			j := p.i + 1
			for j < len(p.s) && p.s[j] != '$' && strings.IndexByte(stops, p.s[j]) < 0 {
				j++
			}
			if eval {
				b.WriteString(p.s[p.i:j])
			}
			p.i = j
			continue
		}
		if strings.HasPrefix(p.s[p.i:], "$${") {
			if eval {
				b.WriteString("${")
			}
			p.i += 3
			continue
		}
		if p.i+1 < len(p.s) && p.s[p.i+1] == '{' {
			v, err := p.expr(eval, depth)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			continue
		}
		if eval {
			b.WriteByte('$')
		}
		p.i++
	}
	return b.String(), nil
}

// expr evaluates the expression starting at "${" at p.i.
func (p *parser) expr(eval bool, depth int) (string, error) {
	start := p.i
	if depth >= maxDepth {
		return "", p.errorf(start, "nested too deeply")
	}
	p.i += 2
	if p.peek() == '#' {
		p.i++
		name, err := p.name(start)
		if err != nil {
			return "", err
		}
		if err := p.close(start); err != nil {
			return "", err
		}
		if !eval {
			return "", nil
		}
		v, _ := p.lookup(name)
		return fmt.Sprint(len([]rune(v))), nil
	}
	name, err := p.name(start)
	if err != nil {
		return "", err
	}
	if p.i >= len(p.s) {
		return "", p.unterminated(start)
	}
	switch c := p.s[p.i]; c {
	case '}':
		p.i++
		if !eval {
			return "", nil
		}
		v, _ := p.lookup(name)
		return v, nil
	case ':', '=', '-':
		if c == ':' && (p.peekAt(1) != '=' && p.peekAt(1) != '-') {
			return p.substring(name, start, eval)
		}
		if c == ':' {
			p.i++
		}
		p.i++
		return p.defaulted(name, start, eval, depth)
	case '^', ',':
		all := p.peekAt(1) == c
		p.i++
		if all {
			p.i++
		}
		if err := p.close(start); err != nil {
			return "", err
		}
		if !eval {
			return "", nil
		}
		v, _ := p.lookup(name)
		return changeCase(v, c == '^', all), nil
	case '#', '%':
		longest := p.peekAt(1) == c
		p.i++
		if longest {
			p.i++
		}
		pat, err := p.word("}", eval, depth, start)
		if err != nil {
			return "", err
		}
		if err := p.close(start); err != nil {
			return "", err
		}
		if !eval {
			return "", nil
		}
		v, _ := p.lookup(name)
		out, err := trim(v, pat, c == '#', longest)
		if err != nil {
			return "", fmt.Errorf("variable expression %q: %w", snippet(p.s[start:]), err)
		}
		return out, nil
	case '/':
		return p.replace(name, start, eval, depth)
	default:
		return "", p.errorf(start, "unexpected %q after the variable name", c)
	}
}

// defaulted evaluates ${NAME:=word} and its variants; p.i is at the word.
func (p *parser) defaulted(name string, start int, eval bool, depth int) (string, error) {
	var v string
	if eval {
		v = p.vars[name] // unset and empty both take the default, as in drone/envsubst
	}
	useDefault := eval && v == ""
	def, err := p.word("}", useDefault, depth, start)
	if err != nil {
		return "", err
	}
	if err := p.close(start); err != nil {
		return "", err
	}
	if useDefault {
		return def, nil
	}
	return v, nil
}

// substring evaluates ${NAME:pos} and ${NAME:pos:len}; p.i is at the ':'.
func (p *parser) substring(name string, start int, eval bool) (string, error) {
	p.i++
	posText := p.until(":}")
	lenText, hasLen := "", false
	if p.peek() == ':' {
		p.i++
		lenText, hasLen = p.until("}"), true
	}
	if err := p.close(start); err != nil {
		return "", err
	}
	pos, length, err := parseRange(posText, lenText, hasLen)
	if err != nil {
		return "", p.errorf(start, "%v", err)
	}
	if !eval {
		return "", nil
	}
	v, _ := p.lookup(name)
	return substr(v, pos, length, hasLen), nil
}

// replace evaluates ${NAME/old/new} and its variants; p.i is at the first '/'.
func (p *parser) replace(name string, start int, eval bool, depth int) (string, error) {
	p.i++
	mode := byte(0) // first occurrence; '/' every, '#' leading, '%' trailing
	switch p.peek() {
	case '/', '#', '%':
		mode = p.s[p.i]
		p.i++
	}
	old, err := p.word("/}", eval, depth, start)
	if err != nil {
		return "", err
	}
	repl := ""
	if p.peek() == '/' {
		p.i++
		if repl, err = p.word("}", eval, depth, start); err != nil {
			return "", err
		}
	}
	if err := p.close(start); err != nil {
		return "", err
	}
	if !eval {
		return "", nil
	}
	v, _ := p.lookup(name)
	return replaceLiteral(v, old, repl, mode), nil
}

// word parses a default, pattern or replacement up to one of stops.
func (p *parser) word(stops string, eval bool, depth, start int) (string, error) {
	w, err := p.sequence(stops, eval, depth+1)
	if err != nil {
		return "", err
	}
	if p.i >= len(p.s) {
		return "", p.unterminated(start)
	}
	return w, nil
}

// lookup returns a variable's value, recording it as missing in strict mode.
func (p *parser) lookup(name string) (string, bool) {
	v, ok := p.vars[name]
	if !ok && p.strict && !slices.Contains(p.missing, name) {
		p.missing = append(p.missing, name)
	}
	return v, ok
}

// name consumes a variable name.
func (p *parser) name(start int) (string, error) {
	j := p.i
	for j < len(p.s) && isNameByte(p.s[j], j == p.i) {
		j++
	}
	if j == p.i {
		if p.i >= len(p.s) {
			return "", p.unterminated(start)
		}
		return "", p.errorf(start, "expected a variable name ([_a-zA-Z][_a-zA-Z0-9]*)")
	}
	n := p.s[p.i:j]
	p.i = j
	return n, nil
}

// close consumes the closing '}'.
func (p *parser) close(start int) error {
	if p.i >= len(p.s) {
		return p.unterminated(start)
	}
	if p.s[p.i] != '}' {
		return p.errorf(start, "unexpected %q, expected '}'", p.s[p.i])
	}
	p.i++
	return nil
}

// until consumes bytes up to (not including) one of stops or EOF.
func (p *parser) until(stops string) string {
	j := p.i
	for j < len(p.s) && strings.IndexByte(stops, p.s[j]) < 0 {
		j++
	}
	t := p.s[p.i:j]
	p.i = j
	return t
}

func (p *parser) peek() byte { return p.peekAt(0) }

func (p *parser) peekAt(n int) byte {
	if p.i+n < len(p.s) {
		return p.s[p.i+n]
	}
	return 0
}

func (p *parser) unterminated(start int) error {
	return p.errorf(start, "missing closing '}'")
}

// errorf builds a syntax error quoting the start of the offending expression.
func (p *parser) errorf(start int, format string, args ...any) error {
	return &SyntaxError{Expr: snippet(p.s[start:]), Msg: fmt.Sprintf(format, args...)}
}

// SyntaxError is a "${" that does not start a well-formed expression.
type SyntaxError struct {
	// Expr is the start of the expression (at most 48 bytes).
	Expr string
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid variable expression %q: %s (write $${ for a literal ${)", e.Expr, e.Msg)
}

// snippet shortens s to the expression it starts, for error messages.
func snippet(s string) string {
	if i := strings.IndexByte(s, '}'); i >= 0 && i < 48 {
		return s[:i+1]
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < 48 {
		return s[:i] + "..."
	}
	if len(s) > 48 {
		r := []rune(s[:48])
		return string(r[:len(r)-1]) + "..."
	}
	return s
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return false
}
