// Package helmrepo is a real Helm test peer: a static HTTP(S) Helm chart repository on
// 127.0.0.1 (index.yaml and chart archives, optionally behind basic auth and TLS from a
// generated CA, see package pki), and chart archives packaged with helm's own chartutil from
// the podinfo fixture or from charts written on the fly.
//
//	repo := helmrepo.New(t, helmrepo.Options{Username: "u", Password: "p"})
//	for _, v := range []string{"6.0.0", "6.1.0"} {
//		repo.AddChart(t, helmrepo.Package(t, helmrepo.PodinfoDir(), "", v))
//	}
//	// HelmRepository spec.url: repo.URL
package helmrepo

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

// PodinfoDir is the podinfo chart fixture (a copy of ../shared/fixtures/charts/podinfo kept
// in testdata so tests do not depend on files outside the repository). Charts packaged from
// it are read-only copies: callers never write into this directory.
func PodinfoDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "charts", "podinfo")
}

// LoadChart loads the chart directory dir with helm's loader.
func LoadChart(t testing.TB, dir string) *chart.Chart {
	t.Helper()
	c, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatalf("load chart %s: %v", dir, err)
	}
	return c
}

// Package packages the chart directory dir with helm's chartutil.Save, setting the chart
// version (and the name, when name is not empty), and returns the .tgz bytes.
func Package(t testing.TB, dir, name, version string) []byte {
	t.Helper()
	data, err := PackageChart(dir, name, version)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// PackageChart is Package outside a test.
func PackageChart(dir, name, version string) ([]byte, error) {
	c, err := loader.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", dir, err)
	}
	if name != "" {
		c.Metadata.Name = name
	}
	c.Metadata.Version = version
	tmp, err := os.MkdirTemp("", "helmrepo-package-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	p, err := chartutil.Save(c, tmp)
	if err != nil {
		return nil, fmt.Errorf("package chart %s: %w", c.Name(), err)
	}
	return os.ReadFile(p)
}

// Save packages a loaded chart with chartutil.Save and returns the .tgz bytes.
func Save(t testing.TB, c *chart.Chart) []byte {
	t.Helper()
	out := t.TempDir()
	p, err := chartutil.Save(c, out)
	if err != nil {
		t.Fatalf("package chart %s: %v", c.Name(), err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// WriteChartDir writes a minimal chart (Chart.yaml, values.yaml, one template) named name at
// version into dir/<subdir>, with extra files (slash paths relative to the chart directory)
// added or overriding the defaults. It returns the chart directory.
func WriteChartDir(t testing.TB, dir, subdir, name, version string, extra map[string]string) string {
	t.Helper()
	files := map[string]string{
		"Chart.yaml":               "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n",
		"values.yaml":              "replicaCount: 1\n",
		"templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: {{ .Values.replicaCount | quote }}\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	root := filepath.Join(dir, filepath.FromSlash(subdir))
	WriteFiles(t, root, files)
	return root
}

// WriteFiles writes files (slash paths relative to root -> content) under root.
func WriteFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		abs := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(abs, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ReadTree reads every regular file under dir into a map of slash paths (relative to dir,
// prefixed with prefix) to content: a chart directory ready to be committed to a Git test
// repository or uploaded to a test bucket.
func ReadTree(t testing.TB, dir, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[path.Join(prefix, filepath.ToSlash(rel))] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return out
}
