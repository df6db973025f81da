package substitute

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// varNameRE is the rule Flux applies to the keys of substitute and
// substituteFrom: keys that could never be referenced as ${NAME} are reported
// instead of being ignored, as they are usually a typo.
var varNameRE = regexp.MustCompile(`^[_[:alpha:]][_[:alpha:][:digit:]]*$`)

// VarSource is one set of variables, named for error messages.
type VarSource struct {
	// Name says where the variables come from, e.g. "ConfigMap 'apps/vars'".
	Name string
	Data map[string]string
}

// FromConfigMapData makes the variables of a substituteFrom ConfigMap: its
// data (binaryData is not used, as upstream).
func FromConfigMapData(namespace, name string, data map[string]string) VarSource {
	return VarSource{Name: fmt.Sprintf("ConfigMap '%s/%s'", namespace, name), Data: data}
}

// FromSecretData makes the variables of a substituteFrom Secret: its data,
// decoded as text.
func FromSecretData(namespace, name string, data map[string][]byte) VarSource {
	m := make(map[string]string, len(data))
	for k, v := range data {
		m[k] = string(v)
	}
	return VarSource{Name: fmt.Sprintf("Secret '%s/%s'", namespace, name), Data: m}
}

// Vars merges the variable sources in upstream's precedence: substituteFrom
// entries in order (a later entry wins over an earlier one), then
// spec.postBuild.substitute (wins over all). Every key must be a valid
// variable name; an invalid one is an error naming the key and its source
// (never a value: substituteFrom Secrets hold secrets).
func Vars(substituteFrom []VarSource, substitute map[string]string) (map[string]string, error) {
	n := len(substitute)
	for _, s := range substituteFrom {
		n += len(s.Data)
	}
	vars := make(map[string]string, n)
	add := func(source string, data map[string]string) error {
		var invalid []string
		for k, v := range data {
			if !varNameRE.MatchString(k) {
				invalid = append(invalid, strconv.Quote(k))
				continue
			}
			vars[k] = v
		}
		if len(invalid) > 0 {
			slices.Sort(invalid)
			return fmt.Errorf("%s: invalid variable name(s) %s: a name must match %s",
				source, strings.Join(invalid, ", "), varNameRE)
		}
		return nil
	}
	for _, s := range substituteFrom {
		if err := add(s.Name, s.Data); err != nil {
			return nil, err
		}
	}
	if err := add("spec.postBuild.substitute", substitute); err != nil {
		return nil, err
	}
	return vars, nil
}
