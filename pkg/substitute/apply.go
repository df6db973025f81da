package substitute

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

const (
	// DisableKey is the label or annotation that opts an object out of
	// substitution when set to DisableValue.
	DisableKey = "kustomize.toolkit.fluxcd.io/substitute"
	// DisableValue is the value of DisableKey that opts an object out.
	DisableValue = "disabled"
)

// maxReported bounds how many failing objects one error lists, so that a
// typo in a variable shared by thousands of objects gives a readable message.
const maxReported = 10

// Apply substitutes vars into each object: the result is what rendering the
// object as YAML, expanding the text (see Expand) and parsing it back gives,
// so that a value lands with YAML typing; most objects get there without the
// round trip (see fast.go). Objects that opt out (DisableKey) and objects without any
// "${" in their keys or values are left as they are, without being
// rendered. The error lists every failing object (up to a bound) by
// Kind/namespace/name; objects that failed are left unchanged.
//
// Apply assigns obj.Object but never modifies the maps and slices the input
// objects hold: those on the way to a changed value are copied and the rest
// is shared, so objects from a build cache can be passed as shallow copies.
//
// The rendering has no memory of how the author quoted a scalar: a string
// "${PORT}" renders unquoted, so PORT=8080 lands as a number. That is also
// upstream's behaviour: kustomize re-renders every object before Flux
// substitutes on its text, and that rendering drops the quotes around
// "${PORT}" too (only strings that would otherwise parse as another type stay
// quoted). Keep a value a string with a quoted default or value instead.
func Apply(objs []*unstructured.Unstructured, vars map[string]string, opts Options) error {
	return ApplyWithYAML(objs, nil, vars, opts)
}

// ApplyWithYAML is Apply for callers holding the YAML the objects were parsed
// from as the author wrote it (not a kustomize rendering): sources[i], when not
// nil, is the YAML of objs[i] and is expanded instead of a rendering of the map,
// so a quoted "${PORT}" stays a string. A source must be nil for an object
// changed since it was parsed; sources may be shorter than objs.
func ApplyWithYAML(objs []*unstructured.Unstructured, sources [][]byte, vars map[string]string, opts Options) error {
	var errs []error
	failed := 0
	for i, obj := range objs {
		var src []byte
		if i < len(sources) {
			src = sources[i]
		}
		if err := applyOne(obj, src, vars, opts); err != nil {
			failed++
			if len(errs) < maxReported {
				errs = append(errs, err)
			}
		}
	}
	if failed > len(errs) {
		errs = append(errs, fmt.Errorf("and %d more objects failed substitution", failed-len(errs)))
	}
	return errors.Join(errs...)
}

func applyOne(obj *unstructured.Unstructured, src []byte, vars map[string]string, opts Options) error {
	if obj == nil {
		return nil
	}
	// The cheap test first: most objects have nothing to substitute.
	if src != nil && !bytes.Contains(src, []byte("${")) || src == nil && !containsExpr(obj.Object) {
		return nil
	}
	if Disabled(obj) {
		return nil
	}
	if src == nil {
		if m, ok := substituteFast(obj.Object, vars, opts); ok && checkObject(m) == nil {
			obj.Object = m
			return nil
		}
		var err error
		if src, err = yaml.Marshal(obj.Object); err != nil {
			return fmt.Errorf("%s: rendering YAML for substitution: %w", ObjectRef(obj), err)
		}
	}
	return applyText(obj, src, vars, opts)
}

// applyText is the exact path: expand the YAML text of the object and parse
// the result, as upstream does.
func applyText(obj *unstructured.Unstructured, src []byte, vars map[string]string, opts Options) error {
	out, err := Expand(string(src), vars, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", ObjectRef(obj), err)
	}
	m, err := parseObject([]byte(out))
	if err != nil {
		return fmt.Errorf("%s: the YAML after substitution is invalid: %w", ObjectRef(obj), err)
	}
	obj.Object = m
	return nil
}

// parseObject parses one substituted object into the JSON value types
// unstructured.Unstructured requires (integers as int64). The YAML parser's
// messages give a line and a problem but never the offending text, which
// may hold a substituted secret.
func parseObject(y []byte) (map[string]any, error) {
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		return nil, fmt.Errorf("not a YAML mapping")
	}
	if err := checkObject(m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkObject rejects a substitution result that is no longer an object.
func checkObject(m map[string]any) error {
	if m == nil {
		return fmt.Errorf("the object is empty")
	}
	for _, f := range []string{"apiVersion", "kind"} {
		if s, _ := m[f].(string); s == "" {
			return fmt.Errorf("%s is missing or not a string", f)
		}
	}
	return nil
}

// Disabled reports whether the object opts out of substitution.
func Disabled(obj *unstructured.Unstructured) bool {
	return obj.GetLabels()[DisableKey] == DisableValue || obj.GetAnnotations()[DisableKey] == DisableValue
}

// containsExpr reports whether any key or string value contains "${", that
// is, whether the object can be changed by substitution at all.
func containsExpr(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, "${")
	case map[string]any:
		for k, e := range v {
			if strings.Contains(k, "${") || containsExpr(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if containsExpr(e) {
				return true
			}
		}
	}
	return false
}

// ObjectRef names an object as Kind/namespace/name (Kind/name when it has no
// namespace) for error messages.
func ObjectRef(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return obj.GetKind() + "/" + ns + "/" + obj.GetName()
	}
	return obj.GetKind() + "/" + obj.GetName()
}
