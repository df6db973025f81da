package oci

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// SelectSemver returns the tag with the highest semantic version satisfying rng among the tags
// matching filter (a regular expression; empty matches all). Tags are parsed strictly
// (MAJOR.MINOR.PATCH with optional pre-release and build) after dropping a leading "v", so
// "latest", "1.2" or "main-abc123" never win by accident. When two tags parse to the same
// version ("1.0.0" and "v1.0.0") the lexically smallest wins, so the choice is stable.
func SelectSemver(tags []string, rng, filter string) (string, error) {
	constraint, err := semver.NewConstraint(rng)
	if err != nil {
		return "", fmt.Errorf("invalid semver range %q: %w", rng, err)
	}
	var re *regexp.Regexp
	if filter != "" {
		if re, err = regexp.Compile(filter); err != nil {
			return "", fmt.Errorf("invalid semver filter %q: %w", filter, err)
		}
	}
	var bestTag string
	var best *semver.Version
	for _, tag := range tags {
		if re != nil && !re.MatchString(tag) {
			continue
		}
		v, err := semver.StrictNewVersion(strings.TrimPrefix(tag, "v"))
		if err != nil || !constraint.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || (v.Equal(best) && tag < bestTag) {
			best, bestTag = v, tag
		}
	}
	if best == nil {
		if filter != "" {
			return "", fmt.Errorf("no tag among %d matches semver range %q with filter %q", len(tags), rng, filter)
		}
		return "", fmt.Errorf("no tag among %d matches semver range %q", len(tags), rng)
	}
	return bestTag, nil
}
