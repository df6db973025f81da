package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// loadDotenv parses a dotenv file as SOPS does: one KEY=value per line
// (split at the first '='), "\n" in values standing for a newline, '#'
// lines kept as comments, empty lines dropped. Nothing else is unquoted
// or trimmed.
func loadDotenv(data []byte) ([]mapping, error) {
	var m mapping
	for i, line := range bytes.Split(data, []byte("\n")) {
		switch {
		case len(line) == 0:
		case line[0] == '#':
			m = append(m, entry{key: comment{text: string(line[1:])}})
		default:
			k, v, ok := bytes.Cut(line, []byte("="))
			if !ok {
				// The line is not quoted: it may be a secret.
				return nil, fmt.Errorf("line %d of the dotenv document has no '='", i+1)
			}
			m = append(m, entry{key: string(k), value: strings.ReplaceAll(string(v), `\n`, "\n")})
		}
	}
	return []mapping{m}, nil
}

// emitDotenv writes the entries back, one per line, newlines in values
// escaped as "\n".
func emitDotenv(docs []mapping) ([]byte, error) {
	if len(docs) == 0 {
		return nil, errors.New("no document")
	}
	var b bytes.Buffer
	for _, e := range docs[0] {
		switch e.value.(type) {
		case mapping, []any:
			return nil, errors.New("a dotenv value cannot be a mapping or a list")
		}
		if c, ok := e.key.(comment); ok {
			b.WriteString("#" + c.text + "\n")
			continue
		}
		v, ok := e.value.(string)
		if ok {
			v = strings.ReplaceAll(v, "\n", `\n`)
		} else {
			v = scalarText(e.value)
		}
		fmt.Fprintf(&b, "%v=%s\n", e.key, v)
	}
	return b.Bytes(), nil
}

// scalarText is how SOPS writes a non-string value in a flat format:
// floats always with a decimal point or exponent, booleans as Go spells
// them, times in RFC 3339.
func scalarText(v any) string {
	switch v := v.(type) {
	case float64:
		s := strconv.FormatFloat(v, 'G', -1, 64)
		if !strings.ContainsAny(s, ".E") {
			s = strconv.FormatFloat(v, 'f', 1, 64)
		}
		return s
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.Format(time.RFC3339)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%v", encodable(v))
}
