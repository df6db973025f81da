package chart

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"

	"gotk.dev/source-controller/internal/helm"

	"gotk.dev/internal/testing/helmrepo"
)

// copyDir copies the chart fixture into dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDirectoryMatchesHelm(t *testing.T) {
	root := writeTree(t, nil)
	dir := filepath.Join(root, "charts", "podinfo")
	copyDir(t, helmrepo.PodinfoDir(), dir)
	got, err := LoadDirectory(root, dir, helm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := func(c interface{ Name() string }, raw []string) string {
		sort.Strings(raw)
		return strings.Join(raw, ",")
	}
	var g, w []string
	for _, f := range got.Raw {
		g = append(g, f.Name)
	}
	for _, f := range want.Raw {
		w = append(w, f.Name)
	}
	if names(got, g) != names(want, w) {
		t.Fatalf("files differ from helm's loader:\n got %v\nwant %v", g, w)
	}
	if got.Metadata.Version != want.Metadata.Version || len(got.Values) != len(want.Values) {
		t.Fatal("metadata or values differ from helm's loader")
	}
}

func TestLoadDirectorySymlinks(t *testing.T) {
	t.Run("inside the artifact", func(t *testing.T) {
		root := writeTree(t, map[string]string{
			"shared/cm.yaml":        "kind: ConfigMap\n",
			"chart/Chart.yaml":      "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
			"shared/tpl/extra.yaml": "kind: Secret\n",
		})
		symlink(t, "../../shared/cm.yaml", filepath.Join(root, "chart/templates/cm.yaml"))
		symlink(t, "../shared/tpl", filepath.Join(root, "chart/linked"))
		c, err := LoadDirectory(root, filepath.Join(root, "chart"), helm.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range c.Raw {
			names = append(names, f.Name)
		}
		sort.Strings(names)
		if strings.Join(names, " ") != "Chart.yaml linked/extra.yaml templates/cm.yaml" {
			t.Fatalf("files = %v", names)
		}
	})
	t.Run("to outside the artifact", func(t *testing.T) {
		outside := writeTree(t, map[string]string{"secret.yaml": "token: abc\n"})
		root := writeTree(t, map[string]string{"chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n"})
		symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(root, "chart/templates/secret.yaml"))
		_, err := LoadDirectory(root, filepath.Join(root, "chart"), helm.Limits{})
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "'templates/secret.yaml' is a symlink to outside the source artifact") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("cycle", func(t *testing.T) {
		root := writeTree(t, map[string]string{"chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n"})
		symlink(t, "..", filepath.Join(root, "chart/files/loop"))
		_, err := LoadDirectory(root, filepath.Join(root, "chart"), helm.Limits{})
		if err == nil || !strings.Contains(err.Error(), "symlink cycle") {
			t.Fatalf("error = %v, want a cycle error", err)
		}
	})
	t.Run("broken", func(t *testing.T) {
		root := writeTree(t, map[string]string{"chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n"})
		symlink(t, "nowhere", filepath.Join(root, "chart/templates/x.yaml"))
		_, err := LoadDirectory(root, filepath.Join(root, "chart"), helm.Limits{})
		if err == nil || !strings.Contains(err.Error(), "'templates/x.yaml' is a broken symlink") {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestLoadDirectoryLimitsAndIgnore(t *testing.T) {
	big := strings.Repeat("y", 3000)
	root := writeTree(t, map[string]string{
		"chart/Chart.yaml":      "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
		"chart/.helmignore":     "*.bin\n",
		"chart/ignored.bin":     big,
		"chart/files/small.txt": "ok",
	})
	dir := filepath.Join(root, "chart")
	c, err := LoadDirectory(root, dir, helm.Limits{MaxChartFileSize: 1000})
	if err != nil {
		t.Fatalf("an ignored oversize file failed the load: %v", err)
	}
	for _, f := range c.Raw {
		if f.Name == "ignored.bin" {
			t.Fatal(".helmignore was not applied")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "files/big.txt"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadDirectory(root, dir, helm.Limits{MaxChartFileSize: 1000})
	wantLimit(t, err, helm.FlagMaxChartFileSize, "chart file 'files/big.txt'")
}
