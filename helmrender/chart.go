package helmrender

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// LoadChart loads the chart of an extracted source artifact: the directory itself, or the
// one directory in it holding a Chart.yaml (a packaged chart extracts to "<name>/"). A
// path to a packaged chart (.tgz) is loaded as is.
func LoadChart(path string) (*chart.Chart, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return loader.LoadFile(path)
	}
	root, err := chartRoot(path)
	if err != nil {
		return nil, err
	}
	return loader.LoadDir(root)
}

func chartRoot(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err == nil {
		return dir, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), "Chart.yaml")); err == nil {
				found = append(found, e.Name())
			}
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("want one chart (a Chart.yaml at the top or in one directory), found %d", len(found))
	}
	return filepath.Join(dir, found[0]), nil
}

// DigestVersion is a chart version with the digest of the OCI artifact it came from.
type DigestVersion struct {
	// Version is "<chart version>+<digest hex[0:12]>".
	Version string
	// Digest is the artifact digest ("sha256:<hex>").
	Digest string
}

// WithDigest appends the first 12 hex digits of the OCI artifact digest to a chart version
// as semver build metadata, as helm-controller releases charts from OCIRepositories (so a
// new push of the same version is a new release). revision is the OCIRepository's artifact
// revision, "<tag>@<algo>:<hex>" or "<algo>:<hex>"; a tag that is not the chart's version
// is an error.
func WithDigest(version, revision string) (DigestVersion, error) {
	v, err := semver.NewVersion(version)
	if err != nil {
		return DigestVersion{}, fmt.Errorf("chart version '%s' is not semver: %w", version, err)
	}
	digest := revision
	if tag, d, ok := strings.Cut(revision, "@"); ok {
		if tag != version {
			return DigestVersion{}, fmt.Errorf("artifact revision %s does not match chart version %s", tag, version)
		}
		digest = d
	}
	_, hex, ok := strings.Cut(digest, ":")
	if !ok || len(hex) < 12 {
		return DigestVersion{}, fmt.Errorf("invalid artifact revision %s", revision)
	}
	withMeta, err := v.SetMetadata(hex[:12])
	if err != nil {
		return DigestVersion{}, err
	}
	return DigestVersion{Version: withMeta.String(), Digest: digest}, nil
}
