// Package chart builds the artifact of a HelmChart: a chart archive pulled from a Helm or OCI
// repository, or packaged from a directory of a GitRepository or Bucket artifact, with
// spec.valuesFiles merged into its values.yaml, missing dependencies fetched and the version
// carrying the build metadata upstream documents.
//
// A reconciler step calls Resolve* first (cheap: no download, no packaging) to learn the
// chart name and artifact version, compares them with status.artifact, and calls Build* only
// when something changed. Archives are loaded through LoadArchive/LoadDirectory, which refuse
// path traversal, links out of the source and oversize files before helm's loader parses
// anything.
package chart

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"helm.sh/helm/v3/pkg/repo"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/repository"
)

// Remote is a chart repository: an HTTP repository with its index
// (*repository.ChartRepository) or an OCI repository (*ocirepo.Client).
type Remote interface {
	// GetChartVersion selects the version of chart name matching a semver range (or exact
	// version; "" and "*" mean the latest stable).
	GetChartVersion(ctx context.Context, name, version string) (*repo.ChartVersion, error)
	// DownloadChart fetches the archive of cv, bounded by the chart size limit.
	DownloadChart(ctx context.Context, cv *repo.ChartVersion) ([]byte, error)
}

// BuildOptions configure a build.
type BuildOptions struct {
	// ValuesFiles are spec.valuesFiles; see EffectiveValuesFiles.
	ValuesFiles []string
	// IgnoreMissingValuesFiles is spec.ignoreMissingValuesFiles.
	IgnoreMissingValuesFiles bool
	// VersionMetadata is appended to the chart version as SemVer build metadata (see
	// VersionMetadata).
	VersionMetadata string
	// Limits bound downloads and chart contents.
	Limits helm.Limits
}

// Resolved is what a chart reference points at, known before any download or packaging.
type Resolved struct {
	// Name of the chart (status.observedChartName).
	Name string
	// Version of the artifact: the chart version with BuildOptions.VersionMetadata
	// (status.artifact.revision).
	Version string
	// ChartVersion is the selected repository entry (remote references only).
	ChartVersion *repo.ChartVersion
}

// FileName is the artifact file name upstream uses: "<name>-<version>.tgz".
func (r *Resolved) FileName() string { return fmt.Sprintf("%s-%s.tgz", r.Name, r.Version) }

// Build is a built chart artifact.
type Build struct {
	Resolved
	// Data is the chart archive (.tgz) to store.
	Data []byte
	// Packaged is false when Data is the archive exactly as the repository or source held it,
	// true when it was packaged here (values files, version metadata, a chart directory).
	Packaged bool
	// ValuesFiles are the values files merged into values.yaml, in order
	// (status.observedValuesFiles); files skipped by ignoreMissingValuesFiles are absent.
	ValuesFiles []string
	// ResolvedDependencies counts the dependencies fetched or loaded to complete the chart.
	ResolvedDependencies int
}

// Summary is the message upstream uses for the Ready condition and the event, e.g.
// "pulled 'podinfo' chart with version '6.0.3'".
func (b *Build) Summary() string {
	action := "pulled"
	if b.Packaged {
		action = "packaged"
	}
	s := fmt.Sprintf("%s '%s' chart with version '%s'", action, b.Name, b.Version)
	if len(b.ValuesFiles) > 0 {
		s += fmt.Sprintf(" and merged values files %v", b.ValuesFiles)
	}
	return s
}

// RemoteReference names a chart in a repository: spec.chart and spec.version.
type RemoteReference struct {
	Name    string
	Version string
}

// chartName is the grammar upstream accepts for spec.chart with a HelmRepository source.
var chartName = regexp.MustCompile(`^([-a-z0-9]+/?\.?)+$`)

func (r RemoteReference) validate() error {
	if r.Name == "" {
		return fmt.Errorf("no chart name set")
	}
	if !chartName.MatchString(r.Name) || strings.Contains(r.Name, "..") {
		return fmt.Errorf("invalid chart name '%s': a valid name must be lower case letters and numbers and MAY be separated with dashes (-), slashes (/) or periods (.)", r.Name)
	}
	return nil
}

// ResolveRemote selects the chart version ref points at in remote and computes the artifact
// version. Errors are *BuildError: InvalidChartReference (persistent) for a bad name, an
// unknown chart or no matching version; ChartPullError for repository failures.
func ResolveRemote(ctx context.Context, remote Remote, ref RemoteReference, opts BuildOptions) (*Resolved, error) {
	if err := ref.validate(); err != nil {
		return nil, buildErr(ReasonChartReference, err)
	}
	cv, err := remote.GetChartVersion(ctx, ref.Name, ref.Version)
	if err != nil {
		if isReferenceError(err) {
			return nil, buildErrf(ReasonChartReference, "failed to get chart version for remote reference: %w", err)
		}
		return nil, buildErrf(ReasonChartPull, "failed to get chart version for remote reference: %w", err)
	}
	version, err := withMetadata(cv.Version, opts.VersionMetadata)
	if err != nil {
		return nil, buildErr(ReasonMetadataPatch, err)
	}
	return &Resolved{Name: cv.Name, Version: version, ChartVersion: cv}, nil
}

// BuildRemote downloads the chart res points at and, when values files or version metadata
// ask for it, repackages it with the merged values (values files are paths inside the chart).
// The downloaded archive is always checked with LoadArchive, even when stored as is.
func BuildRemote(ctx context.Context, remote Remote, res *Resolved, opts BuildOptions) (*Build, error) {
	limits := opts.Limits.WithDefaults()
	data, err := remote.DownloadChart(ctx, res.ChartVersion)
	if err != nil {
		return nil, buildErrf(ReasonChartPull, "failed to download chart for remote reference: %w", err)
	}
	c, err := LoadArchive(data, limits)
	if err != nil {
		return nil, buildErrf(ReasonChartPull, "chart '%s' version '%s': %w", res.Name, res.ChartVersion.Version, err)
	}
	if err := c.Validate(); err != nil {
		return nil, buildErrf(ReasonChartPull, "chart '%s' version '%s': %w", res.Name, res.ChartVersion.Version, err)
	}
	b := &Build{Resolved: *res}
	valuesFiles := EffectiveValuesFiles(opts.ValuesFiles)
	if len(valuesFiles) == 0 && opts.VersionMetadata == "" {
		b.Data = data
		return b, nil
	}
	if len(valuesFiles) > 0 {
		values, applied, err := mergeValuesFromChart(c, valuesFiles, opts.IgnoreMissingValuesFiles)
		if err != nil {
			return nil, buildErr(ReasonValuesFiles, err)
		}
		if len(applied) > 0 {
			if err := replaceValues(c, values); err != nil {
				return nil, buildErr(ReasonValuesFiles, err)
			}
			b.ValuesFiles = applied
		}
	}
	c.Metadata.Version = res.Version
	if b.Data, err = Package(c); err != nil {
		return nil, buildErr(ReasonPackage, err)
	}
	b.Packaged = true
	return b, nil
}

// isReferenceError reports whether a repository says the chart or version does not exist.
func isReferenceError(err error) bool {
	var nf *repository.ChartNotFoundError
	return errors.As(err, &nf)
}
