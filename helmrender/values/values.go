// Package values composes the chart values of a HelmRelease: spec.valuesFrom (ConfigMaps
// and Secrets, in order), then spec.values, then the single values of references with a
// targetPath, which take precedence over everything else (as upstream documents).
package values

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// Kinds a values reference may point at.
const (
	KindConfigMap = "ConfigMap"
	KindSecret    = "Secret"
)

// ErrNotFound is what a Getter returns (wrapped or not) when the referenced object does
// not exist.
var ErrNotFound = errors.New("not found")

// Getter reads the data of a ConfigMap (kind "ConfigMap") or Secret (kind "Secret") in the
// namespace of the HelmRelease. It returns an error wrapping ErrNotFound when the object
// does not exist. Secret data is returned decoded (the bytes of .data).
type Getter func(ctx context.Context, kind, name string) (map[string][]byte, error)

// Reason tells why a values reference could not be resolved.
type Reason string

const (
	// ReasonNotFound: the referenced object does not exist.
	ReasonNotFound Reason = "not found"
	// ReasonKeyNotFound: the object has no such key.
	ReasonKeyNotFound Reason = "key not found"
	// ReasonUnsupportedKind: the reference is neither ConfigMap nor Secret.
	ReasonUnsupportedKind Reason = "unsupported kind"
	// ReasonInvalid: the values under the key are not a YAML mapping.
	ReasonInvalid Reason = "invalid values"
	// ReasonTargetPath: the value could not be set at the targetPath.
	ReasonTargetPath Reason = "invalid targetPath"
	// ReasonRead: reading the object failed (transient).
	ReasonRead Reason = "read failed"
)

// ReferenceError is the failure to resolve one values reference. Its message names the
// reference (valuesFrom[i], kind, namespace/name and key) and never contains the values.
type ReferenceError struct {
	Index     int
	Kind      string
	Namespace string
	Name      string
	Key       string
	Reason    Reason
	Err       error
}

func (e *ReferenceError) Error() string {
	msg := fmt.Sprintf("spec.valuesFrom[%d]: %s '%s/%s'", e.Index, e.Kind, e.Namespace, e.Name)
	if e.Key != "" {
		msg += fmt.Sprintf(" key '%s'", e.Key)
	}
	msg += ": " + string(e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ReferenceError) Unwrap() error { return e.Err }

// Compose returns the values of a HelmRelease in namespace: the references in order (later
// ones win), then inline (spec.values, winning over the references), then the references
// with a targetPath, set with Helm's --set syntax (--set-literal when literal is true), which
// win over everything. A missing object or key of an optional reference is skipped; any
// other problem is a *ReferenceError. inline is not modified.
func Compose(ctx context.Context, get Getter, namespace string, refs []meta.ValuesReference, inline map[string]interface{}) (chartutil.Values, error) {
	result := map[string]interface{}{}
	type pathValue struct {
		index int
		ref   meta.ValuesReference
		value string
	}
	var paths []pathValue
	type object struct {
		data  map[string][]byte
		found bool
	}
	cache := map[string]object{}
	for i, ref := range refs {
		refErr := func(reason Reason, err error) *ReferenceError {
			return &ReferenceError{Index: i, Kind: ref.Kind, Namespace: namespace, Name: ref.Name, Key: ref.GetValuesKey(), Reason: reason, Err: err}
		}
		if ref.Kind != KindConfigMap && ref.Kind != KindSecret {
			return nil, refErr(ReasonUnsupportedKind, nil)
		}
		// One read per object: several references to one object see the same version.
		id := ref.Kind + "/" + ref.Name
		obj, seen := cache[id]
		if !seen {
			data, err := get(ctx, ref.Kind, ref.Name)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, refErr(ReasonRead, err)
			}
			obj = object{data: data, found: err == nil}
			cache[id] = obj
		}
		if !obj.found {
			if ref.Optional {
				continue
			}
			e := refErr(ReasonNotFound, nil)
			e.Key = ""
			return nil, e
		}
		data := obj.data
		raw, ok := data[ref.GetValuesKey()]
		if !ok {
			if ref.Optional {
				continue
			}
			return nil, refErr(ReasonKeyNotFound, nil)
		}
		if ref.TargetPath != "" {
			paths = append(paths, pathValue{index: i, ref: ref, value: string(raw)})
			continue
		}
		vals, err := readValues(raw)
		if err != nil {
			return nil, refErr(ReasonInvalid, err)
		}
		result = Merge(result, vals)
	}
	result = Merge(result, deepCopy(inline))
	for _, p := range paths {
		if err := setPath(result, p.ref.TargetPath, p.value, p.ref.Literal); err != nil {
			return nil, &ReferenceError{Index: p.index, Kind: p.ref.Kind, Namespace: namespace, Name: p.ref.Name, Key: p.ref.GetValuesKey(), Reason: ReasonTargetPath, Err: err}
		}
	}
	return result, nil
}

// readValues parses a values document. Errors carry the line (sigs.k8s.io/yaml reports
// "yaml: line N: ..."), never the content.
func readValues(data []byte) (map[string]interface{}, error) {
	vals := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil, err
	}
	if vals == nil {
		vals = map[string]interface{}{}
	}
	return vals, nil
}

// setPath sets value at path with Helm's strvals, as `helm --set path=value` (or
// --set-literal) would. A value in single or double quotes is set as a string
// (--set-string), without the quotes.
func setPath(dest map[string]interface{}, path, value string, literal bool) error {
	if literal {
		return strvals.ParseLiteralInto(path+"="+value, dest)
	}
	if len(value) >= 2 {
		first, last := value[0], value[len(value)-1]
		if (first == '"' && last == '"') || (first == '\'' && last == '\'') {
			return strvals.ParseIntoString(path+"="+value[1:len(value)-1], dest)
		}
	}
	return strvals.ParseInto(path+"="+value, dest)
}

// Merge returns a merged with b: b wins, nested maps are merged key by key, anything else
// (lists included) is replaced. a is modified and returned; b's maps are copied.
func Merge(a, b map[string]interface{}) map[string]interface{} {
	if a == nil {
		a = map[string]interface{}{}
	}
	for k, v := range b {
		if vm, ok := v.(map[string]interface{}); ok {
			if am, ok := a[k].(map[string]interface{}); ok {
				a[k] = Merge(am, vm)
				continue
			}
			a[k] = Merge(map[string]interface{}{}, vm)
			continue
		}
		a[k] = v
	}
	return a
}

// deepCopy copies the maps and lists of v, so that setting paths in the result never
// changes the HelmRelease's own values.
func deepCopy(v map[string]interface{}) map[string]interface{} {
	if v == nil {
		return nil
	}
	return copyValue(v).(map[string]interface{})
}

func copyValue(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, e := range t {
			out[k] = copyValue(e)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, e := range t {
			out[i] = copyValue(e)
		}
		return out
	default:
		return v
	}
}
