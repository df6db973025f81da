package helmrender

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/internal/testing/helmrepo"
)

func podinfoDir(t *testing.T) string {
	t.Helper()
	return helmrepo.PodinfoDir()
}

// TestRender renders podinfo the way helm-controller releases it: values applied, hooks
// apart, the HelmRelease's labels and common metadata on every object.
func TestRender(t *testing.T) {
	chrt, err := LoadChart(podinfoDir(t))
	if err != nil {
		t.Fatal(err)
	}
	hr := &v2.HelmRelease{}
	hr.Name, hr.Namespace = "podinfo", "apps"
	hr.Spec.CommonMetadata = &v2.CommonMetadata{Labels: map[string]string{"team": "a"}}
	rls, err := Render(Request{Object: hr, Chart: chrt, Values: chartutil.Values{"replicaCount": 3}, KubeVersion: "v1.30.0"})
	if err != nil {
		t.Fatal(err)
	}
	var deployments int
	for _, doc := range releaseutil.SplitManifests(rls.Manifest) {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		l := u.GetLabels()
		if l["helm.toolkit.fluxcd.io/name"] != "podinfo" || l["helm.toolkit.fluxcd.io/namespace"] != "apps" || l["team"] != "a" {
			t.Errorf("%s/%s labels = %v", u.GetKind(), u.GetName(), l)
		}
		if u.GetKind() == "Deployment" {
			deployments++
			if r, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "replicas"); fmt.Sprint(r) != "3" {
				t.Errorf("replicas = %v", r)
			}
		}
	}
	if deployments != 1 {
		t.Errorf("%d Deployments rendered", deployments)
	}
	// podinfo needs Kubernetes >= 1.23.
	if _, err := Render(Request{Object: hr, Chart: chrt, KubeVersion: "v1.20.0"}); err == nil || !strings.Contains(err.Error(), "podinfo@6.14.1") {
		t.Errorf("render for an old cluster: %v", err)
	}
}

func TestWithDigest(t *testing.T) {
	for _, tc := range []struct{ version, revision, want, err string }{
		{"6.5.3", "6.5.3@sha256:0cc9a8446c95009ef382f5eade883a67c257f77d50f84e78ecef2aac9428d1e5", "6.5.3+0cc9a8446c95", ""},
		{"6.5.3", "sha256:0cc9a8446c95009ef382f5eade883a67c257f77d50f84e78ecef2aac9428d1e5", "6.5.3+0cc9a8446c95", ""},
		{"6.5.3", "latest@sha256:0cc9a8446c95009ef382f5eade883a67c257f77d50f84e78ecef2aac9428d1e5", "", "does not match chart version"},
		{"6.5.3", "sha256:abc", "", "invalid artifact revision"},
		{"not-semver", "sha256:0cc9a8446c95009ef382f5eade883a67c257f77d50f84e78ecef2aac9428d1e5", "", "not semver"},
	} {
		got, err := WithDigest(tc.version, tc.revision)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("WithDigest(%s, %s) error = %v, want %q", tc.version, tc.revision, err, tc.err)
		case tc.err == "" && (err != nil || got.Version != tc.want):
			t.Errorf("WithDigest(%s, %s) = %v, %v, want %s", tc.version, tc.revision, got, err, tc.want)
		}
	}
}

func TestLoadChartFindsTheChart(t *testing.T) {
	dir := t.TempDir()
	write := func(path, data string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The extracted artifact of a packaged chart: one directory holding the chart.
	write(filepath.Join(dir, "app", "Chart.yaml"), "apiVersion: v2\nname: app\nversion: 1.0.0\n")
	if c, err := LoadChart(dir); err != nil || c.Name() != "app" {
		t.Fatalf("LoadChart = %v, %v", c, err)
	}
	write(filepath.Join(dir, "other", "Chart.yaml"), "apiVersion: v2\nname: other\nversion: 1.0.0\n")
	if _, err := LoadChart(dir); err == nil || !strings.Contains(err.Error(), "found 2") {
		t.Errorf("two charts: %v", err)
	}
}
