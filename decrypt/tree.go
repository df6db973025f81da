package decrypt

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// A SOPS document in memory, as every format loads into it: an ordered
// mapping per document (YAML streams have several), whose keys are strings
// or comments, and whose values are mappings, lists ([]any) or scalars
// (string, int, float64, bool, nil, time.Time; []byte and comment only after
// decryption). Order matters: the MAC hashes values in document order.
type (
	mapping []entry

	// entry is one key of a mapping. A comment line is an entry whose key
	// is a comment and whose value is nil. YAML keys may be other scalars,
	// which SOPS refuses when it walks the tree.
	entry struct {
		key, value any
	}

	// comment is a comment line (without its '#'). inline marks a YAML
	// comment that followed a value on its line.
	comment struct {
		text   string
		inline bool
	}
)

// walker decrypts a document in place, in SOPS' order, and hashes the
// values for the MAC as it goes.
type walker struct {
	rules  cryptRules
	cipher *valueCipher
	mac    hash.Hash
	// macOnlyEncrypted limits the MAC to the values that are encrypted.
	macOnlyEncrypted bool
}

func newWalker(md *metadata, c *valueCipher) *walker {
	w := &walker{rules: newCryptRules(md), cipher: c, mac: sha512.New(), macOnlyEncrypted: md.macOnlyEncrypted}
	if md.macOnlyEncrypted {
		// SOPS starts such a MAC with sha256("sops"), so that it never
		// equals the MAC over all values of the same document.
		seed := sha256.Sum256([]byte("sops"))
		w.mac.Write(seed[:])
	}
	return w
}

// sum is the MAC of what was walked, as SOPS writes it: uppercase hex of
// the SHA-512.
func (w *walker) sum() string {
	return fmt.Sprintf("%X", w.mac.Sum(nil))
}

// value walks one value at path. Keys join the path; list indices do not
// (every element of a list shares its key's path).
func (w *walker) value(v any, path []string, comments [][]string) (any, error) {
	switch v := v.(type) {
	case string, int, float64, bool, time.Time, comment:
		return w.leaf(v, path, comments)
	case []byte:
		return w.leaf(string(v), path, comments)
	case mapping:
		return w.mapping(v, path, comments)
	case []any:
		return w.list(v, path, comments)
	case nil:
		// Nulls are neither encrypted nor part of the MAC.
		return nil, nil
	}
	return nil, fmt.Errorf("the document holds a value of unsupported type %T", v)
}

// mapping walks the entries of m. comments keeps, per nesting level, the
// comment lines just above the current entry, for the comment regexes.
func (w *walker) mapping(m mapping, path []string, comments [][]string) (mapping, error) {
	comments = append(comments, nil)
	top := len(comments) - 1
	for i, e := range m {
		if c, ok := e.key.(comment); ok {
			comments[top] = append(comments[top], c.text)
			v, err := w.leaf(c, path, comments)
			if err != nil {
				return nil, err
			}
			switch v := v.(type) {
			case comment:
				m[i].key = v
			case string:
				m[i].key = comment{text: v, inline: c.inline}
			default:
				return nil, errors.New("an encrypted comment decrypts to a value that is not a comment")
			}
			continue
		}
		c, valueIsComment := e.value.(comment)
		if valueIsComment {
			comments[top] = append(comments[top], c.text)
		}
		k, ok := e.key.(string)
		if !ok {
			return nil, fmt.Errorf("the document has a key of type %T; only string keys are supported", e.key)
		}
		v, err := w.value(e.value, append(path, k), comments)
		if err != nil {
			return nil, err
		}
		m[i].value = v
		if !valueIsComment {
			comments[top] = nil
		}
	}
	return m, nil
}

func (w *walker) list(l []any, path []string, comments [][]string) ([]any, error) {
	comments = append(comments, nil)
	top := len(comments) - 1
	for i, e := range l {
		c, isComment := e.(comment)
		if isComment {
			comments[top] = append(comments[top], c.text)
		}
		v, err := w.value(e, path, comments)
		if err != nil {
			return nil, err
		}
		l[i] = v
		if !isComment {
			comments[top] = nil
		}
	}
	return l, nil
}

// leaf decrypts one scalar or comment if the rules say it is encrypted, and
// adds what is not a comment to the MAC. A comment that does not decrypt is
// kept as it is (older SOPS versions left comments in plaintext); any other
// value that should be encrypted and does not decrypt fails the document.
func (w *walker) leaf(in any, path []string, comments [][]string) (any, error) {
	c, isComment := in.(comment)
	encrypted := w.rules.encrypted(path, comments, isComment)
	out := in
	if encrypted {
		ad := additionalData(path)
		switch {
		case isComment:
			if v, err := w.cipher.open(c.text, ad); err == nil {
				out = v
			}
		default:
			s, ok := in.(string)
			if !ok {
				return nil, errValue
			}
			v, err := w.cipher.open(s, ad)
			if err != nil {
				return nil, err
			}
			out = v
		}
	}
	if !w.macOnlyEncrypted || encrypted {
		// A value may decrypt to a comment (type:comment in a list).
		if _, isComment := out.(comment); !isComment {
			b, err := macBytes(out)
			if err != nil {
				return nil, err
			}
			w.mac.Write(b)
		}
	}
	return out, nil
}

// additionalData authenticates a value together with its key path:
// "a:b:c:" for the value of key c in b in a.
func additionalData(path []string) string {
	return strings.Join(path, ":") + ":"
}

// macBytes is how SOPS feeds a value to the MAC: its text, with Python's
// spelling of booleans (SOPS began in Python) and floats without exponent.
func macBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case time.Time:
		return v.MarshalText()
	}
	return nil, fmt.Errorf("the document holds a value of unsupported type %T", v)
}

// encodable is what an encoder is given for a value: a comment that ended
// up as a mapping value (a value of type:comment) is written as SOPS
// writes its Comment struct.
func encodable(v any) any {
	if c, ok := v.(comment); ok {
		return struct {
			Value  string
			Inline bool
		}{c.text, c.inline}
	}
	return v
}
