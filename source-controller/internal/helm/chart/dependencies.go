package chart

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	helmchart "helm.sh/helm/v3/pkg/chart"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/ocirepo"
	"gotk.dev/source-controller/internal/helm/repository"
)

// DependencyResolver returns the repository a chart dependency's repository URL points at.
// repoURL is normalised with repository.NormalizeURL (HTTP URLs end in "/", OCI URLs do
// not). The reconciler looks for a HelmRepository with that URL in the HelmChart's namespace
// and returns a Remote with its credentials and (cached) index; for unknown URLs upstream
// fetches anonymously, which AnonymousResolver implements.
type DependencyResolver func(ctx context.Context, repoURL string) (Remote, error)

// buildDependencies completes c with the dependencies its Chart.yaml (or Chart.lock, whose
// pinned versions win) lists but charts/ does not hold: file:// dependencies are loaded from
// inside the source artifact (relative to the chart directory chartDir), the others are
// downloaded through resolve. It returns how many were added.
func buildDependencies(ctx context.Context, c *helmchart.Chart, root, chartDir string, limits helm.Limits, resolve DependencyResolver) (int, error) {
	reqs := c.Metadata.Dependencies
	if c.Lock != nil && len(c.Lock.Dependencies) > 0 {
		reqs = c.Lock.Dependencies
	}
	present := map[string]bool{}
	for _, d := range c.Dependencies() {
		present[d.Name()] = true
	}
	// A chart used twice under different aliases is bundled once: aliases are applied when
	// the chart is rendered.
	var missing []*helmchart.Dependency
	seen := map[string]bool{}
	for _, d := range reqs {
		if present[d.Name] || seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		missing = append(missing, d)
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].Name < missing[j].Name })

	remotes := map[string]Remote{} // one resolution per repository URL within a build
	for _, d := range missing {
		var dep *helmchart.Chart
		var err error
		switch {
		case d.Repository == "":
			err = fmt.Errorf("it has no repository and is not bundled in charts/")
		case strings.HasPrefix(d.Repository, "file://"):
			dep, err = loadLocalDependency(root, chartDir, d, limits)
		case strings.HasPrefix(d.Repository, "@") || strings.HasPrefix(d.Repository, "alias:"):
			err = fmt.Errorf("repository '%s' is an alias from a local Helm configuration, which the controller does not have: use the repository URL", d.Repository)
		default:
			dep, err = fetchRemoteDependency(ctx, d, resolve, remotes, limits)
		}
		if err != nil {
			return 0, fmt.Errorf("dependency '%s': %w", d.Name, err)
		}
		c.AddDependency(dep)
	}
	return len(missing), nil
}

// loadLocalDependency loads a file:// dependency: a chart directory or packaged chart whose
// path is relative to the chart directory and must stay inside the source artifact.
func loadLocalDependency(root, chartDir string, d *helmchart.Dependency, limits helm.Limits) (*helmchart.Chart, error) {
	u, err := url.Parse(d.Repository)
	if err != nil {
		return nil, fmt.Errorf("invalid repository '%s': %w", d.Repository, err)
	}
	rel := path.Join(filepath.ToSlash(chartDir), u.Host+u.Path)
	p, err := resolveInRoot(root, rel, "source artifact")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no chart found at '%s' (repository '%s')", rel, d.Repository)
		}
		return nil, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	var dep *helmchart.Chart
	if fi.IsDir() {
		dep, err = LoadDirectory(root, p, limits)
	} else {
		var data []byte
		if data, err = readFileLimited(p, limits.MaxChartSize, fmt.Sprintf("chart archive '%s'", rel)); err == nil {
			dep, err = LoadArchive(data, limits)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load chart from '%s' (repository '%s'): %w", rel, d.Repository, err)
	}
	if err := checkVersion(dep, d); err != nil {
		return nil, err
	}
	return dep, nil
}

// fetchRemoteDependency downloads a dependency from an HTTP or OCI repository.
func fetchRemoteDependency(ctx context.Context, d *helmchart.Dependency, resolve DependencyResolver, remotes map[string]Remote, limits helm.Limits) (*helmchart.Chart, error) {
	u, err := url.Parse(d.Repository)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "oci") {
		return nil, fmt.Errorf("repository '%s' is not an http(s):// or oci:// URL", d.Repository)
	}
	if resolve == nil {
		return nil, fmt.Errorf("no resolver for repository '%s'", d.Repository)
	}
	repoURL := repository.NormalizeURL(d.Repository)
	remote, ok := remotes[repoURL]
	if !ok {
		if remote, err = resolve(ctx, repoURL); err != nil {
			return nil, fmt.Errorf("repository '%s': %w", repoURL, err)
		}
		remotes[repoURL] = remote
	}
	cv, err := remote.GetChartVersion(ctx, d.Name, d.Version)
	if err != nil {
		return nil, fmt.Errorf("get chart '%s' version '%s' from '%s': %w", d.Name, d.Version, repoURL, err)
	}
	data, err := remote.DownloadChart(ctx, cv)
	if err != nil {
		return nil, fmt.Errorf("download chart '%s' version '%s': %w", d.Name, cv.Version, err)
	}
	dep, err := LoadArchive(data, limits)
	if err != nil {
		return nil, fmt.Errorf("chart '%s' version '%s': %w", d.Name, cv.Version, err)
	}
	return dep, nil
}

// checkVersion verifies a local dependency satisfies the version range of its requirement
// (an empty range accepts any version).
func checkVersion(dep *helmchart.Chart, d *helmchart.Dependency) error {
	if d.Version == "" {
		return nil
	}
	constraint, err := semver.NewConstraint(d.Version)
	if err != nil {
		return fmt.Errorf("invalid version range '%s': %w", d.Version, err)
	}
	v, err := semver.NewVersion(dep.Metadata.Version)
	if err != nil {
		return fmt.Errorf("chart version '%s' is not SemVer: %w", dep.Metadata.Version, err)
	}
	if !constraint.Check(v) {
		return fmt.Errorf("chart version '%s' does not satisfy '%s'", dep.Metadata.Version, d.Version)
	}
	return nil
}

// AnonymousResolver resolves any repository URL without credentials, as upstream does for
// dependency repositories no HelmRepository declares: HTTP(S) repositories have their index
// fetched, OCI repositories are reached over HTTPS.
func AnonymousResolver(limits helm.Limits) DependencyResolver {
	return func(ctx context.Context, repoURL string) (Remote, error) {
		if strings.HasPrefix(repoURL, "oci://") {
			return ocirepo.NewClient(ocirepo.Options{URL: repoURL, Limits: limits})
		}
		c, err := repository.NewClient(repository.ClientOptions{URL: repoURL, Limits: limits})
		if err != nil {
			return nil, err
		}
		idx, err := c.FetchIndex(ctx)
		if err != nil {
			c.Close()
			return nil, err
		}
		return &repository.ChartRepository{Client: c, Index: idx.File}, nil
	}
}
