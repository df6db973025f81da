package decrypt

import (
	"bytes"
	"errors"
	"strings"

	"gopkg.in/ini.v1"
)

// SOPS reads and writes INI files with gopkg.in/ini.v1 (sections may
// repeat); using the library the same way gives the same values and output.
// A document is one mapping of sections (the unnamed DEFAULT section first),
// each a mapping of string values. A section's comment comes first in it,
// a key's comment right after the key.

var iniOptions = ini.LoadOptions{AllowNonUniqueSections: true}

func loadINI(data []byte) ([]mapping, error) {
	f, err := ini.LoadSources(iniOptions, data)
	if err != nil {
		return nil, err
	}
	var doc mapping
	for _, s := range f.Sections() {
		var items mapping
		if s.Comment != "" {
			items = append(items, entry{key: comment{text: stripINIComment(s.Comment)}})
		}
		for _, k := range s.Keys() {
			items = append(items, entry{key: k.Name(), value: k.Value()})
			if k.Comment != "" {
				items = append(items, entry{key: comment{text: stripINIComment(k.Comment)}})
			}
		}
		doc = append(doc, entry{key: s.Name(), value: items})
	}
	return []mapping{doc}, nil
}

// stripINIComment drops the comment marker and the blanks after it.
func stripINIComment(c string) string {
	switch {
	case strings.HasPrefix(c, ";"):
		return strings.TrimLeft(c, "; ")
	case strings.HasPrefix(c, "#"):
		return strings.TrimLeft(c, "# ")
	}
	return c
}

func emitINI(docs []mapping) ([]byte, error) {
	f := ini.Empty(iniOptions)
	f.DeleteSection(ini.DefaultSection)
	for _, doc := range docs {
		for _, e := range doc {
			if _, ok := e.key.(comment); ok {
				continue
			}
			name, ok := e.key.(string)
			if !ok {
				return nil, errors.New("an INI section name is not a string")
			}
			s, err := f.NewSection(name)
			if err != nil {
				return nil, errors.New("an INI section has no name")
			}
			items, ok := e.value.(mapping)
			if !ok {
				return nil, errors.New("an INI section is not a mapping")
			}
			if len(items) > 0 {
				if c, ok := items[0].key.(comment); ok {
					s.Comment = c.text
					items = items[1:]
				}
			}
			var last *ini.Key
			for _, it := range items {
				if c, ok := it.key.(comment); ok {
					if last != nil {
						last.Comment = c.text
					}
					continue
				}
				k, ok := it.key.(string)
				if !ok {
					return nil, errors.New("an INI key is not a string")
				}
				if last, err = s.NewKey(k, scalarText(it.value)); err != nil {
					return nil, errors.New("an INI key cannot be written")
				}
			}
		}
	}
	var b bytes.Buffer
	_, _ = f.WriteTo(&b)
	return b.Bytes(), nil
}
