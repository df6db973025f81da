// Package policy selects the latest tag for an ImagePolicy: .spec.filterTags narrows (and
// optionally rewrites) the tags, then .spec.policy (semver, alphabetical or numerical) picks
// one. Selection is a single pass over an iterator, so tags can stream from the tag store
// without being held in memory. Digest reflection and the .status.latestRef /
// .status.observedPreviousRef bookkeeping live in ref.go.
package policy

import (
	"errors"
	"fmt"
	"iter"
	"regexp"
	"strconv"

	"github.com/Masterminds/semver/v3"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
)

// ErrNoTags means the repository has no tags to choose from (not scanned yet, or empty):
// the reconciler waits for the next scan rather than fail for good.
var ErrNoTags = errors.New("no tags to choose from")

// SpecError is a policy the user must fix; Field is the offending .spec path.
type SpecError struct {
	Field string
	Msg   string
}

func (e *SpecError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Msg) }

// NoMatchError means tags exist but none passes the filter and the policy.
type NoMatchError struct {
	Tags   int
	Policy string
}

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("unable to determine latest version from provided list: none of %d tags matches %s", e.Tags, e.Policy)
}

type kind int

const (
	kindSemver kind = iota
	kindAlphabetical
	kindNumerical
)

// Policy is a compiled .spec.policy with .spec.filterTags.
type Policy struct {
	kind       kind
	desc       bool
	constraint *semver.Constraints
	filter     *regexp.Regexp
	extract    string
	describe   string
}

// New compiles spec. Errors are *SpecError naming the field to fix.
func New(spec imagev1.ImagePolicySpec) (*Policy, error) {
	c := spec.Policy
	set := 0
	for _, ok := range []bool{c.SemVer != nil, c.Alphabetical != nil, c.Numerical != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, &SpecError{Field: ".spec.policy", Msg: "exactly one of semver, alphabetical or numerical must be set"}
	}
	p := &Policy{}
	switch {
	case c.SemVer != nil:
		constraint, err := semver.NewConstraint(c.SemVer.Range)
		if err != nil {
			return nil, &SpecError{Field: ".spec.policy.semver.range", Msg: fmt.Sprintf("%q is not a semver range: %v", c.SemVer.Range, err)}
		}
		p.kind, p.constraint = kindSemver, constraint
		p.describe = fmt.Sprintf("semver range '%s'", c.SemVer.Range)
	case c.Alphabetical != nil:
		desc, err := order(".spec.policy.alphabetical.order", c.Alphabetical.Order)
		if err != nil {
			return nil, err
		}
		p.kind, p.desc = kindAlphabetical, desc
		p.describe = "alphabetical order " + orderName(desc)
	default:
		desc, err := order(".spec.policy.numerical.order", c.Numerical.Order)
		if err != nil {
			return nil, err
		}
		p.kind, p.desc = kindNumerical, desc
		p.describe = "numerical order " + orderName(desc)
	}
	if f := spec.FilterTags; f != nil {
		if f.Pattern != "" {
			re, err := regexp.Compile(f.Pattern)
			if err != nil {
				return nil, &SpecError{Field: ".spec.filterTags.pattern", Msg: fmt.Sprintf("%q is not a regular expression: %v", f.Pattern, err)}
			}
			p.filter = re
			p.describe += fmt.Sprintf(" with filter pattern '%s'", f.Pattern)
		}
		if f.Extract != "" {
			if p.filter == nil {
				return nil, &SpecError{Field: ".spec.filterTags.extract", Msg: "needs .spec.filterTags.pattern to extract from"}
			}
			p.extract = f.Extract
		}
	}
	return p, nil
}

func order(field, o string) (desc bool, err error) {
	switch o {
	case "", imagev1.OrderAsc:
		return false, nil
	case imagev1.OrderDesc:
		return true, nil
	}
	return false, &SpecError{Field: field, Msg: fmt.Sprintf("%q is not asc or desc", o)}
}

func orderName(desc bool) string {
	if desc {
		return imagev1.OrderDesc
	}
	return imagev1.OrderAsc
}

// String describes the policy for messages, e.g. "semver range '1.x' with filter pattern '^v'".
func (p *Policy) String() string { return p.describe }

// candidate is a tag with the value the policy compares (the extracted one, if any).
type candidate struct {
	tag     string
	value   string
	version *semver.Version
	number  float64
}

// Latest returns the tag the policy selects from tags (any order). It reads tags once.
func (p *Policy) Latest(tags iter.Seq[string]) (string, error) {
	var best *candidate
	seen := 0
	for tag := range tags {
		seen++
		value, ok := p.value(tag)
		if !ok {
			continue
		}
		c := candidate{tag: tag, value: value}
		switch p.kind {
		case kindSemver:
			v, err := semver.NewVersion(value)
			if err != nil || !p.constraint.Check(v) {
				continue
			}
			c.version = v
		case kindNumerical:
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return "", fmt.Errorf("failed to parse invalid numeric value '%s' (tag '%s'): select numeric tags with .spec.filterTags", value, tag)
			}
			c.number = n
		}
		if best == nil || p.better(&c, best) {
			cc := c
			best = &cc
		}
	}
	if seen == 0 {
		return "", ErrNoTags
	}
	if best == nil {
		return "", &NoMatchError{Tags: seen, Policy: p.describe}
	}
	return best.tag, nil
}

// value applies the filter: ok is false for tags the pattern does not match (or whose
// extracted value is empty).
func (p *Policy) value(tag string) (string, bool) {
	if p.filter == nil {
		return tag, true
	}
	m := p.filter.FindStringSubmatchIndex(tag)
	if m == nil {
		return "", false
	}
	if p.extract == "" {
		return tag, true
	}
	v := string(p.filter.ExpandString(nil, p.extract, tag, m))
	return v, v != ""
}

// better reports whether a ranks above b. Equal values (e.g. "v1.0.0" and "1.0.0", or the same
// extracted timestamp) fall back to the lexically greater tag, so the choice never depends on
// the order tags arrive in.
func (p *Policy) better(a, b *candidate) bool {
	var cmp int
	switch p.kind {
	case kindSemver:
		cmp = a.version.Compare(b.version)
	case kindAlphabetical:
		cmp = compareStrings(a.value, b.value)
	case kindNumerical:
		switch {
		case a.number > b.number:
			cmp = 1
		case a.number < b.number:
			cmp = -1
		}
	}
	if p.desc {
		cmp = -cmp
	}
	if cmp == 0 {
		return a.tag > b.tag
	}
	return cmp > 0
}

func compareStrings(a, b string) int {
	switch {
	case a > b:
		return 1
	case a < b:
		return -1
	}
	return 0
}
