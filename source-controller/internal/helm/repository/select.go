package repository

import (
	"fmt"
	"sort"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/repo"
)

// ChartNotFoundError says the index has no chart of that name, or no version of it matching
// the requested range. It is a reference problem (condition reason InvalidChartReference):
// the HelmChart spec or the repository content must change.
type ChartNotFoundError struct {
	Chart   string
	Version string // the requested range; empty when the chart name itself is unknown
	// Reason is appended to the message (where it was looked for, or why nothing matched).
	Reason string
}

func (e *ChartNotFoundError) Error() string {
	if e.Version == "" {
		where := e.Reason
		if where == "" {
			where = " in the repository index"
		}
		return fmt.Sprintf("no chart named '%s'%s", e.Chart, where)
	}
	return fmt.Sprintf("no '%s' chart with version matching '%s' found%s", e.Chart, e.Version, e.Reason)
}

// SelectVersion picks the entry of chart name that best matches version, with upstream
// source-controller's rules: an entry whose version string equals version wins outright;
// otherwise version is a Masterminds semver range ("" and "*" mean the latest stable
// release: pre-releases only match ranges that name one), the highest matching version wins,
// and among equal versions (differing only in build metadata) the most recently created.
func SelectVersion(idx *repo.IndexFile, name, version string) (*repo.ChartVersion, error) {
	if idx == nil {
		return nil, fmt.Errorf("no repository index loaded")
	}
	versions, ok := idx.Entries[name]
	if !ok {
		return nil, &ChartNotFoundError{Chart: name}
	}
	if len(versions) == 0 {
		return nil, &ChartNotFoundError{Chart: name, Version: orStar(version), Reason: ": the chart has no versions"}
	}
	if version != "" {
		for _, cv := range versions {
			if cv.Version == version {
				return cv, nil
			}
		}
	}
	constraint, err := semver.NewConstraint(orStar(version))
	if err != nil {
		return nil, &ChartNotFoundError{Chart: name, Version: version, Reason: fmt.Sprintf(": invalid semver range: %v", err)}
	}
	type match struct {
		v  *semver.Version
		cv *repo.ChartVersion
	}
	var matches []match
	for _, cv := range versions {
		v, err := semver.NewVersion(cv.Version)
		if err != nil || !constraint.Check(v) {
			continue
		}
		matches = append(matches, match{v, cv})
	}
	if len(matches) == 0 {
		return nil, &ChartNotFoundError{Chart: name, Version: orStar(version)}
	}
	sort.SliceStable(matches, func(i, j int) bool {
		if !matches[i].v.Equal(matches[j].v) {
			return matches[i].v.GreaterThan(matches[j].v)
		}
		return matches[i].cv.Created.After(matches[j].cv.Created)
	})
	return matches[0].cv, nil
}

func orStar(version string) string {
	if version == "" {
		return "*"
	}
	return version
}
