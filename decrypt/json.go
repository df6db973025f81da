package decrypt

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// maxJSONDepth bounds nesting, which this parser follows by recursion.
const maxJSONDepth = 10000

var errJSONDepth = errors.New("the JSON document is nested too deeply")

// loadJSON parses a JSON document (also the envelope of an encrypted binary
// file) with its key order, as SOPS does: from the token stream, numbers as
// int when they fit in 64 bits and float64 otherwise, duplicate keys kept,
// and whatever follows the top-level object ignored. Like SOPS it takes a
// document cut short inside a top-level value as ending there.
func loadJSON(data []byte) ([]mapping, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, errors.New("the JSON document is not an object")
	}
	m, err := jsonObject(dec, 1)
	if err != nil {
		return nil, err
	}
	return []mapping{m}, nil
}

// jsonObject reads an object's entries after its '{'. Input ending where a
// value should start, or inside a list value, ends the object.
func jsonObject(dec *json.Decoder, depth int) (mapping, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	var m mapping
	for {
		t, err := dec.Token()
		if err != nil && err != io.EOF {
			return nil, err
		}
		var key string
		switch t := t.(type) {
		case string:
			key = t
		case json.Delim:
			if t == '}' {
				return m, nil
			}
			return nil, errors.New("the JSON document has an object key that is not a string")
		default:
			return nil, errors.New("the JSON document ends inside an object")
		}
		t, err = dec.Token()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := jsonValue(dec, t, depth)
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return nil, err
		}
		m = append(m, entry{key: key, value: v})
	}
}

// jsonList reads a list's elements after its '['. It returns io.EOF when
// the input ends inside it.
func jsonList(dec *json.Decoder, depth int) ([]any, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	var l []any
	for {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if d, ok := t.(json.Delim); ok && d == ']' {
			return l, nil
		}
		v, err := jsonValue(dec, t, depth)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
}

func jsonValue(dec *json.Decoder, t json.Token, depth int) (any, error) {
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			return jsonObject(dec, depth+1)
		case '[':
			return jsonList(dec, depth+1)
		}
		return nil, errors.New("the JSON document is malformed")
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i), nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, errors.New("the JSON document has a number out of range")
		}
		return f, nil
	}
	return t, nil
}

// emitJSON writes a document as SOPS does: the entries in order (comments
// dropped) encoded compactly, re-indented with tabs, and a final newline.
// Scalars are encoded by encoding/json.
func emitJSON(docs []mapping) ([]byte, error) {
	if len(docs) == 0 {
		return nil, errors.New("no document")
	}
	var b bytes.Buffer
	if err := encodeJSON(&b, docs[0]); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "\t"); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func encodeJSON(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case mapping:
		b.WriteByte('{')
		n := 0
		for _, e := range v {
			if _, ok := e.key.(comment); ok {
				continue
			}
			k, ok := e.key.(string)
			if !ok {
				return errors.New("a key is not a string")
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			kb, err := json.Marshal(k)
			if err != nil {
				return err
			}
			b.Write(kb)
			b.WriteString(": ")
			if err := encodeJSON(b, e.value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		n := 0
		for _, e := range v {
			if _, ok := e.(comment); ok {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if err := encodeJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		vb, err := json.Marshal(encodable(v))
		if err != nil {
			return err
		}
		b.Write(vb)
	}
	return nil
}

// emitBinary returns the decrypted "data" value of an encrypted binary
// file: the original bytes.
func emitBinary(docs []mapping) ([]byte, error) {
	if len(docs) != 1 {
		return nil, errors.New("a binary file is one document")
	}
	for _, e := range docs[0] {
		if k, ok := e.key.(string); ok && k == "data" {
			s, ok := e.value.(string)
			if !ok {
				return nil, errors.New("the data of a binary file is not a string")
			}
			return []byte(s), nil
		}
	}
	return nil, errors.New("a binary file has no data")
}
