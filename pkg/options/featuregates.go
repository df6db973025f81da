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

// Gate is a feature gate a controller accepts in --feature-gates.
type Gate struct {
	// Default is the gate's value when --feature-gates does not name it.
	Default bool
	// NoEffect, when set, says why the gate changes nothing here (upstream Flux has it for a
	// behaviour this implementation does not have, or always has): it is accepted so that
	// install patches written for upstream keep working, and logged once when set.
	NoEffect string
}

// Gates are the feature gates of a controller, by upstream name.
type Gates map[string]Gate

// Defaults returns each gate's default value.
func (g Gates) Defaults() map[string]bool {
	out := make(map[string]bool, len(g))
	for name, gate := range g {
		out[name] = gate.Default
	}
	return out
}

// Enabled reports the value of gate for these options: as set in --feature-gates, else its
// default.
func (o *Runtime) Enabled(gates Gates, gate string) bool {
	if v, ok := o.FeatureGates[gate]; ok {
		return v
	}
	return gates[gate].Default
}

// CommonGates are the gates every Flux controller accepts, with what they do here.
func CommonGates() Gates {
	return Gates{
		// Secrets and ConfigMaps are read from the API unless this is on (manager.New).
		"CacheSecretsAndConfigMaps":   {},
		"ObjectLevelWorkloadIdentity": {NoEffect: "object-level workload identity (spec.serviceAccountName for cloud providers) is not supported yet"},
	}
}

// With returns g with more gates added.
func (g Gates) With(more Gates) Gates {
	out := make(Gates, len(g)+len(more))
	for k, v := range g {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}
