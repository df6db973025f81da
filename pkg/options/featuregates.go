package options

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// featureGatesValue parses "A=true,B=false" into a map, as upstream's --feature-gates does.
type featureGatesValue struct{ m *map[string]bool }

func (v featureGatesValue) String() string {
	if v.m == nil || *v.m == nil {
		return ""
	}
	var parts []string
	for k, b := range *v.m {
		parts = append(parts, fmt.Sprintf("%s=%t", k, b))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (v featureGatesValue) Set(s string) error {
	if *v.m == nil {
		*v.m = map[string]bool{}
	}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, val, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("feature gate %q: want key=value", pair)
		}
		b, err := strconv.ParseBool(strings.TrimSpace(val))
		if err != nil {
			return fmt.Errorf("feature gate %q: value must be true or false", pair)
		}
		(*v.m)[strings.TrimSpace(k)] = b
	}
	return nil
}

func (v featureGatesValue) Type() string { return "mapStringBool" }
