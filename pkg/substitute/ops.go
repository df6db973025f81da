package substitute

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The string operations work on characters (runes), never splitting a UTF-8
// sequence, so a substituted value is always valid UTF-8 when its input was.

// changeCase implements ^, ^^, , and ,,.
func changeCase(v string, upper, all bool) string {
	conv := unicode.ToLower
	if upper {
		conv = unicode.ToUpper
	}
	if all {
		return strings.Map(conv, v)
	}
	r, size := utf8.DecodeRuneInString(v)
	if size == 0 {
		return v
	}
	return string(conv(r)) + v[size:]
}

// parseRange parses the operands of ${NAME:pos:len}.
func parseRange(posText, lenText string, hasLen bool) (pos, length int, err error) {
	pos, err = strconv.Atoi(strings.TrimSpace(posText))
	if err != nil {
		return 0, 0, fmt.Errorf("substring position %q is not an integer", posText)
	}
	if hasLen {
		length, err = strconv.Atoi(strings.TrimSpace(lenText))
		if err != nil {
			return 0, 0, fmt.Errorf("substring length %q is not an integer", lenText)
		}
	}
	return pos, length, nil
}

// substr implements ${NAME:pos:len} with bash's rules for negative operands,
// clamping instead of failing when they point outside the value.
func substr(v string, pos, length int, hasLen bool) string {
	r := []rune(v)
	n := len(r)
	if pos < 0 {
		pos = max(n+pos, 0)
	}
	if pos > n {
		return ""
	}
	end := n
	if hasLen {
		if length < 0 {
			end = n + length
		} else if length < n-pos {
			end = pos + length
		}
	}
	if end <= pos {
		return ""
	}
	return string(r[pos:end])
}

// maxTrimLen bounds the value a wildcard pattern is matched against: every
// cut point is tried, so the cost grows with the square of the length.
const maxTrimLen = 4096

// trim implements #, ##, % and %% with path.Match patterns.
func trim(v, pattern string, prefix, longest bool) (string, error) {
	if !strings.ContainsAny(pattern, `*?[\`) {
		// A literal: the shortest and the longest match are the same.
		if prefix {
			return strings.TrimPrefix(v, pattern), nil
		}
		return strings.TrimSuffix(v, pattern), nil
	}
	if len(v) > maxTrimLen {
		return "", fmt.Errorf("value of %d bytes is too long to match pattern %q against (limit %d)", len(v), pattern, maxTrimLen)
	}
	// Candidate cut points are the rune boundaries of v, including both ends.
	cuts := make([]int, 0, len(v)+1)
	for i := range v {
		cuts = append(cuts, i)
	}
	cuts = append(cuts, len(v))
	try := func(cut int) (string, bool, error) {
		part, rest := v[:cut], v[cut:]
		if !prefix {
			part, rest = v[cut:], v[:cut]
		}
		ok, err := path.Match(pattern, part)
		if err != nil {
			return "", false, fmt.Errorf("invalid pattern %q: %v", pattern, err)
		}
		return rest, ok, nil
	}
	// The shortest prefix (and the longest suffix) is found at the smallest
	// matching cut, so those scan the cuts in ascending order.
	ascending := prefix != longest
	for k := range cuts {
		cut := cuts[k]
		if !ascending {
			cut = cuts[len(cuts)-1-k]
		}
		rest, ok, err := try(cut)
		if err != nil {
			return "", err
		}
		if ok {
			return rest, nil
		}
	}
	return v, nil
}

// replaceLiteral implements /, //, /# and /% with a literal old string.
func replaceLiteral(v, old, repl string, mode byte) string {
	if old == "" {
		return v
	}
	switch mode {
	case '/':
		return strings.ReplaceAll(v, old, repl)
	case '#':
		if strings.HasPrefix(v, old) {
			return repl + v[len(old):]
		}
		return v
	case '%':
		if strings.HasSuffix(v, old) {
			return v[:len(v)-len(old)] + repl
		}
		return v
	}
	return strings.Replace(v, old, repl, 1)
}
