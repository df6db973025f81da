package chart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	helmchart "helm.sh/helm/v3/pkg/chart"

	"gotk.dev/source-controller/internal/helm"
)

// LocalReference names a chart inside an extracted GitRepository or Bucket artifact.
type LocalReference struct {
	// Root is the absolute path of the extracted source artifact. Nothing outside it is read.
	Root string
	// Path is spec.chart: a chart directory or a packaged chart (.tgz), relative to Root.
	Path string
}

// localChart is a LocalReference resolved against the file system.
type localChart struct {
	root     string // real path of Root
	path     string // real path of the chart directory or archive
	isDir    bool
	chart    *helmchart.Chart
	original []byte // the archive bytes when Path is a packaged chart
}

// openLocal resolves ref and loads the chart (metadata and files).
func openLocal(ref LocalReference, limits helm.Limits) (*localChart, error) {
	root, err := realRoot(ref.Root)
	if err != nil {
		return nil, buildErr(ReasonChartReference, err)
	}
	p, err := resolveInRoot(root, ref.Path, "source artifact")
	if err != nil {
		return nil, buildErrf(ReasonChartReference, "chart: %w", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, buildErr(ReasonChartReference, err)
	}
	lc := &localChart{root: root, path: p, isDir: fi.IsDir()}
	if lc.isDir {
		if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err != nil {
			return nil, buildErrf(ReasonChartReference, "no Chart.yaml in chart directory '%s'", ref.Path)
		}
		lc.chart, err = LoadDirectory(root, p, limits)
	} else {
		if lc.original, err = readFileLimited(p, limits.MaxChartSize, fmt.Sprintf("chart archive '%s'", ref.Path)); err != nil {
			return nil, buildErr(ReasonChartReference, err)
		}
		lc.chart, err = LoadArchive(lc.original, limits)
	}
	if err != nil {
		return nil, buildErrf(ReasonChartReference, "chart '%s': %w", ref.Path, err)
	}
	if err := lc.chart.Validate(); err != nil {
		return nil, buildErrf(ReasonChartReference, "chart '%s': %w", ref.Path, err)
	}
	return lc, nil
}

// ResolveLocal loads the chart ref points at and computes the artifact name and version,
// without fetching dependencies or packaging.
func ResolveLocal(ref LocalReference, opts BuildOptions) (*Resolved, error) {
	lc, err := openLocal(ref, opts.Limits.WithDefaults())
	if err != nil {
		return nil, err
	}
	return resolvedLocal(lc, opts)
}

func resolvedLocal(lc *localChart, opts BuildOptions) (*Resolved, error) {
	version, err := withMetadata(lc.chart.Metadata.Version, opts.VersionMetadata)
	if err != nil {
		return nil, buildErr(ReasonMetadataPatch, err)
	}
	return &Resolved{Name: lc.chart.Name(), Version: version}, nil
}

// BuildLocal builds the artifact of a chart in a source artifact: values files (paths
// relative to the artifact root) are merged into values.yaml, missing dependencies are
// loaded (file://, from inside the artifact) or fetched through resolve (repository URLs),
// and the chart is packaged deterministically. A packaged chart (.tgz) that needs no change
// is returned as is.
func BuildLocal(ctx context.Context, ref LocalReference, opts BuildOptions, resolve DependencyResolver) (*Build, error) {
	limits := opts.Limits.WithDefaults()
	lc, err := openLocal(ref, limits)
	if err != nil {
		return nil, err
	}
	res, err := resolvedLocal(lc, opts)
	if err != nil {
		return nil, err
	}
	b := &Build{Resolved: *res}
	valuesFiles := EffectiveValuesFiles(opts.ValuesFiles)
	if !lc.isDir && len(valuesFiles) == 0 && opts.VersionMetadata == "" {
		b.Data = lc.original
		return b, nil
	}
	if len(valuesFiles) > 0 {
		values, applied, err := mergeValuesFromRoot(lc.root, valuesFiles, opts.IgnoreMissingValuesFiles, limits)
		if err != nil {
			return nil, buildErr(ReasonValuesFiles, err)
		}
		if len(applied) > 0 {
			if err := replaceValues(lc.chart, values); err != nil {
				return nil, buildErr(ReasonValuesFiles, err)
			}
			b.ValuesFiles = applied
		}
	}
	if lc.isDir {
		chartDir := strings.TrimPrefix(strings.TrimPrefix(lc.path, lc.root), string(filepath.Separator))
		n, err := buildDependencies(ctx, lc.chart, lc.root, chartDir, limits, resolve)
		if err != nil {
			return nil, buildErr(ReasonDependency, err)
		}
		b.ResolvedDependencies = n
	}
	lc.chart.Metadata.Version = res.Version
	if b.Data, err = Package(lc.chart); err != nil {
		return nil, buildErr(ReasonPackage, err)
	}
	b.Packaged = true
	return b, nil
}
