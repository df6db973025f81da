package ssa

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/fluxcd/pkg/apis/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// ignoreRules are the compiled IgnoreRules of one apply.
type ignoreRules []compiledRule

type compiledRule struct {
	paths [][]string // parsed JSON pointers
	sel   *selector  // nil: every object
}

// compileIgnoreRules parses the pointers and selectors once per apply; an invalid rule is an
// error naming it, since it comes from the user's spec.
func compileIgnoreRules(rules []IgnoreRule) (ignoreRules, error) {
	out := make(ignoreRules, 0, len(rules))
	for i, r := range rules {
		cr := compiledRule{}
		for _, p := range r.Paths {
			segs, err := parsePointer(p)
			if err != nil {
				return nil, fmt.Errorf("ignore rule %d: %w", i, err)
			}
			if len(segs) == 0 {
				return nil, fmt.Errorf("ignore rule %d: path %q selects the whole object", i, p)
			}
			cr.paths = append(cr.paths, segs)
		}
		if r.Target != nil {
			sel, err := compileSelector(r.Target)
			if err != nil {
				return nil, fmt.Errorf("ignore rule %d: %w", i, err)
			}
			cr.sel = sel
		}
		out = append(out, cr)
	}
	return out, nil
}

// pathsFor returns the ignored pointers that apply to u.
func (rs ignoreRules) pathsFor(u *unstructured.Unstructured) [][]string {
	var out [][]string
	for _, r := range rs {
		if r.sel == nil || r.sel.matches(u) {
			out = append(out, r.paths...)
		}
	}
	return out
}

// parsePointer splits an RFC 6901 JSON pointer into unescaped reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("invalid JSON pointer %q: must start with '/'", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if !strings.Contains(s, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if s[j] != '~' {
				b.WriteByte(s[j])
				continue
			}
			if j+1 == len(s) || (s[j+1] != '0' && s[j+1] != '1') {
				return nil, fmt.Errorf("invalid JSON pointer %q: '~' must be followed by 0 or 1", p)
			}
			if s[j+1] == '0' {
				b.WriteByte('~')
			} else {
				b.WriteByte('/')
			}
			j++
		}
		segs[i] = b.String()
	}
	return segs, nil
}

// selector is a compiled kustomize.Selector: group, version, kind, name and namespace are
// anchored regular expressions (as in kustomize patch targets), labelSelector and
// annotationSelector label-selector expressions.
type selector struct {
	group, version, kind, name, namespace *regexp.Regexp
	labels, annotations                   labels.Selector
}

func compileSelector(s *kustomize.Selector) (*selector, error) {
	out := &selector{}
	for _, f := range []struct {
		what string
		expr string
		dst  **regexp.Regexp
	}{
		{"group", s.Group, &out.group}, {"version", s.Version, &out.version}, {"kind", s.Kind, &out.kind},
		{"name", s.Name, &out.name}, {"namespace", s.Namespace, &out.namespace},
	} {
		if f.expr == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + f.expr + ")$")
		if err != nil {
			return nil, fmt.Errorf("target %s %q: %w", f.what, f.expr, err)
		}
		*f.dst = re
	}
	var err error
	if s.LabelSelector != "" {
		if out.labels, err = labels.Parse(s.LabelSelector); err != nil {
			return nil, fmt.Errorf("target labelSelector %q: %w", s.LabelSelector, err)
		}
	}
	if s.AnnotationSelector != "" {
		if out.annotations, err = labels.Parse(s.AnnotationSelector); err != nil {
			return nil, fmt.Errorf("target annotationSelector %q: %w", s.AnnotationSelector, err)
		}
	}
	return out, nil
}

func (s *selector) matches(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	match := func(re *regexp.Regexp, v string) bool { return re == nil || re.MatchString(v) }
	return match(s.group, gvk.Group) && match(s.version, gvk.Version) && match(s.kind, gvk.Kind) &&
		match(s.name, u.GetName()) && match(s.namespace, u.GetNamespace()) &&
		(s.labels == nil || s.labels.Matches(labels.Set(u.GetLabels()))) &&
		(s.annotations == nil || s.annotations.Matches(labels.Set(u.GetAnnotations())))
}

// stripPaths removes the values at the given pointers from obj (missing paths are fine).
func stripPaths(obj map[string]any, paths [][]string) {
	for _, segs := range paths {
		var cur any = obj
		for i, seg := range segs {
			last := i == len(segs)-1
			switch c := cur.(type) {
			case map[string]any:
				if last {
					delete(c, seg)
				}
				cur = c[seg]
			case []any:
				idx, err := strconv.Atoi(seg)
				if err != nil || idx < 0 || idx >= len(c) {
					cur = nil
					break
				}
				if last {
					// Lists are values in unstructured maps: set the shortened list on the parent.
					setAt(obj, segs[:i], append(c[:idx:idx], c[idx+1:]...))
				}
				cur = c[idx]
			default:
				cur = nil
			}
			if cur == nil {
				break
			}
		}
	}
}

// setAt stores v at the map path segs of obj (all containers on the way are maps or lists).
func setAt(obj map[string]any, segs []string, v any) {
	if len(segs) == 0 {
		return
	}
	var cur any = obj
	for _, seg := range segs[:len(segs)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg]
		case []any:
			idx, _ := strconv.Atoi(seg)
			cur = c[idx]
		}
	}
	switch c := cur.(type) {
	case map[string]any:
		c[segs[len(segs)-1]] = v
	case []any:
		idx, _ := strconv.Atoi(segs[len(segs)-1])
		c[idx] = v
	}
}

// fieldMatcher matches managed-fields paths (fieldpath.Path) under one ignored pointer. List
// indexes in the pointer are resolved against the live object: the element at that index is
// matched by its associative key, set value or index, whichever the field set uses.
type fieldMatcher []func(fieldpath.PathElement) bool

// resolvePointer builds the matcher of segs against the live object; ok is false when the
// pointer goes through a list element the object does not have (nothing can own it).
func resolvePointer(live map[string]any, segs []string) (fieldMatcher, bool) {
	m := make(fieldMatcher, 0, len(segs))
	var cur any = live
	for _, seg := range segs {
		if l, isList := cur.([]any); isList {
			idx, err := strconv.Atoi(seg)
			if err != nil || idx < 0 || idx >= len(l) {
				return nil, false
			}
			elem := l[idx]
			m = append(m, listElementMatcher(idx, elem))
			cur = elem
			continue
		}
		name := seg
		m = append(m, func(pe fieldpath.PathElement) bool { return pe.FieldName != nil && *pe.FieldName == name })
		if c, isMap := cur.(map[string]any); isMap {
			cur = c[seg]
		} else {
			cur = nil
		}
	}
	return m, true
}

func listElementMatcher(idx int, elem any) func(fieldpath.PathElement) bool {
	return func(pe fieldpath.PathElement) bool {
		switch {
		case pe.Index != nil:
			return *pe.Index == idx
		case pe.Value != nil:
			return value.Equals(*pe.Value, value.NewValueInterface(elem))
		case pe.Key != nil:
			fields, ok := elem.(map[string]any)
			if !ok {
				return false
			}
			for _, f := range *pe.Key {
				v, has := fields[f.Name]
				if !has || !value.Equals(f.Value, value.NewValueInterface(v)) {
					return false
				}
			}
			return true
		}
		return false
	}
}

// prefixOf reports whether p is the matched path or below it.
func (m fieldMatcher) prefixOf(p fieldpath.Path) bool {
	if len(p) < len(m) {
		return false
	}
	for i, match := range m {
		if !match(p[i]) {
			return false
		}
	}
	return true
}

// ignoredSubset returns the paths of s at or below one of the matchers.
func ignoredSubset(s *fieldpath.Set, ms []fieldMatcher) *fieldpath.Set {
	out := &fieldpath.Set{}
	if len(ms) == 0 {
		return out
	}
	s.Iterate(func(p fieldpath.Path) {
		for _, m := range ms {
			if m.prefixOf(p) {
				out.Insert(p.Copy())
				return
			}
		}
	})
	return out
}
