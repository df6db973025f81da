package decrypt

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Formats without nesting (dotenv, INI) store the SOPS metadata flattened:
// a key path is one key with "__map_" before each mapping key and "__list_"
// before each list index, e.g. key_groups__list_0__map_age__list_0__map_enc.
const (
	flatMap  = "__map_"
	flatList = "__list_"
)

// flatNode collects the flattened keys below one path while unflattening.
type flatNode struct {
	value    any
	hasValue bool
	keys     map[string]*flatNode
	indices  map[int]*flatNode
}

// unflatten rebuilds the nested metadata from flattened keys. Mapping keys
// come out sorted; lists must have every index from 0.
func unflatten(flat mapping) (mapping, error) {
	root := &flatNode{}
	for _, e := range flat {
		if _, ok := e.key.(comment); ok {
			continue
		}
		k, ok := e.key.(string)
		if !ok {
			return nil, errors.New("the SOPS metadata has a key that is not a string")
		}
		n := root
		for _, tok := range splitFlatKey(k) {
			n = n.child(tok)
		}
		if n.hasValue {
			return nil, errors.New("the SOPS metadata has a key twice")
		}
		n.value, n.hasValue = e.value, true
	}
	v, err := root.build()
	if err != nil {
		return nil, err
	}
	m, ok := v.(mapping)
	if !ok {
		return nil, errors.New("the SOPS metadata does not flatten a mapping")
	}
	return m, nil
}

// flatToken is one step of a flattened path: a mapping key, or a list index
// when isIndex is set.
type flatToken struct {
	key     string
	index   int
	isIndex bool
}

// splitFlatKey splits a flattened key at its separators. The first part is
// a mapping key; an index that is not a number counts as 0, as in SOPS.
func splitFlatKey(k string) []flatToken {
	var toks []flatToken
	start, sep := 0, ""
	finish := func(end int) {
		part := k[start+len(sep) : end]
		if sep == flatList {
			i, _ := strconv.Atoi(part)
			toks = append(toks, flatToken{index: i, isIndex: true})
		} else {
			toks = append(toks, flatToken{key: part})
		}
		start = end
	}
	for i := 0; i < len(k); {
		switch {
		case strings.HasPrefix(k[i:], flatMap):
			finish(i)
			sep = flatMap
			i += len(flatMap)
		case strings.HasPrefix(k[i:], flatList):
			finish(i)
			sep = flatList
			i += len(flatList)
		default:
			i++
		}
	}
	finish(len(k))
	return toks
}

func (n *flatNode) child(t flatToken) *flatNode {
	if t.isIndex {
		if n.indices == nil {
			n.indices = map[int]*flatNode{}
		}
		c := n.indices[t.index]
		if c == nil {
			c = &flatNode{}
			n.indices[t.index] = c
		}
		return c
	}
	if n.keys == nil {
		n.keys = map[string]*flatNode{}
	}
	c := n.keys[t.key]
	if c == nil {
		c = &flatNode{}
		n.keys[t.key] = c
	}
	return c
}

func (n *flatNode) build() (any, error) {
	kinds := 0
	for _, has := range []bool{n.hasValue, len(n.keys) > 0, len(n.indices) > 0} {
		if has {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return nil, errors.New("the SOPS metadata has a flattened key that is both a value and a collection")
	case n.hasValue:
		return n.value, nil
	case len(n.indices) > 0:
		out := make([]any, len(n.indices))
		for i, c := range n.indices {
			if i < 0 || i >= len(out) {
				return nil, errors.New("the SOPS metadata has an incomplete flattened list")
			}
			v, err := c.build()
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	out := make(mapping, 0, len(n.keys))
	for _, k := range slices.Sorted(maps.Keys(n.keys)) {
		v, err := n.keys[k].build()
		if err != nil {
			return nil, err
		}
		out = append(out, entry{key: k, value: v})
	}
	return out, nil
}
