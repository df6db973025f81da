package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// epoch is the modification time of every packaged file: chartutil.Save stamps the current
// time, which would give every build of the same chart a new digest.
var epoch = time.Unix(0, 0).UTC()

// Package packages c the way `helm package` does (chartutil.Save decides the layout:
// Chart.yaml, Chart.lock, values.yaml, values.schema.json, templates, files, charts/) and then
// rewrites the archive without timestamps, so the same chart always gives the same bytes and
// the stored artifact is content addressed. Dependencies are ordered by name first.
func Package(c *helmchart.Chart) ([]byte, error) {
	sortDependencies(c)
	dir, err := os.MkdirTemp("", "gotk-helm-package-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p, err := chartutil.Save(c, dir)
	if err != nil {
		return nil, fmt.Errorf("package chart '%s': %w", c.Name(), err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return normalizeArchive(raw)
}

// sortDependencies orders the dependencies of c (recursively) by name, then version.
func sortDependencies(c *helmchart.Chart) {
	deps := append([]*helmchart.Chart(nil), c.Dependencies()...)
	sort.SliceStable(deps, func(i, j int) bool {
		if deps[i].Name() != deps[j].Name() {
			return deps[i].Name() < deps[j].Name()
		}
		return deps[i].Metadata.Version < deps[j].Metadata.Version
	})
	for _, d := range deps {
		sortDependencies(d)
	}
	c.SetDependencies(deps...)
}

// normalizeArchive rewrites a .tgz written by chartutil.Save with fixed headers: the same
// entries in the same order, mode 0644, no owner, the epoch as modification time, and helm's
// gzip header fields without a timestamp.
func normalizeArchive(raw []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Comment, zw.Extra = zr.Comment, zr.Extra
	tw := tar.NewWriter(zw)
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg,
			Name:     hdr.Name,
			Mode:     0o644,
			Size:     hdr.Size,
			ModTime:  epoch,
		}); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
