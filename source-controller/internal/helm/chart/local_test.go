package chart

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/repository"

	"gotk.dev/internal/testing/helmrepo"
)

// depRepo serves "remote-chart" 1.0.0 and 1.1.0.
func depRepo(t *testing.T) *helmrepo.Server {
	t.Helper()
	r := helmrepo.New(t, helmrepo.Options{})
	src := helmrepo.WriteChartDir(t, t.TempDir(), "remote-chart", "remote-chart", "1.0.0", nil)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		r.AddChart(t, helmrepo.Package(t, src, "", v))
	}
	return r
}

// umbrellaSource lays out a source artifact: charts/umbrella depending on charts/podinfo
// (file://) and on remote-chart from repoURL, plus env/prod.yaml.
func umbrellaSource(t *testing.T, repoURL string, extra map[string]string) string {
	t.Helper()
	files := map[string]string{
		"charts/umbrella/Chart.yaml": `apiVersion: v2
name: umbrella
version: 0.1.0
dependencies:
  - name: podinfo
    version: "6.x"
    repository: file://../podinfo
  - name: remote-chart
    version: "1.x"
    repository: ` + repoURL + `
`,
		"charts/umbrella/values.yaml":       "replicas: 1\npodinfo:\n  replicaCount: 1\n  ui:\n    color: blue\n",
		"charts/umbrella/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		"env/prod.yaml":                     "replicas: 3\npodinfo:\n  ui:\n    message: production\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	root := writeTree(t, files)
	copyDir(t, helmrepo.PodinfoDir(), filepath.Join(root, "charts", "podinfo"))
	return root
}

func depNames(b *Build, t *testing.T) string {
	c := loadTgz(t, b.Data)
	var names []string
	for _, d := range c.Dependencies() {
		names = append(names, d.Name()+"@"+d.Metadata.Version)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func TestBuildLocalWithDependenciesAndValues(t *testing.T) {
	t.Parallel()
	repo := depRepo(t)
	root := umbrellaSource(t, repo.URL, nil)
	ctx := testContext(t)
	valuesFiles := []string{"charts/umbrella/values.yaml", "env/prod.yaml"}
	opts := BuildOptions{
		ValuesFiles: valuesFiles,
		VersionMetadata: VersionMetadata(MetadataOptions{
			SourceKind: "GitRepository", ReconcileStrategy: "Revision",
			SourceRevision: "main@sha1:4e5cbb7b97d00a8039b8810b90b922f4256fd3bd", ValuesFiles: valuesFiles, Generation: 2,
		}),
	}
	ref := LocalReference{Root: root, Path: "charts/umbrella"}

	res, err := ResolveLocal(ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "umbrella" || res.Version != "0.1.0+4e5cbb7b97d0.2" {
		t.Fatalf("resolved %s %s, want umbrella 0.1.0+4e5cbb7b97d0.2", res.Name, res.Version)
	}

	b, err := BuildLocal(ctx, ref, opts, AnonymousResolver(helm.Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	if !b.Packaged || b.ResolvedDependencies != 2 || b.Version != res.Version {
		t.Fatalf("build: packaged=%v deps=%d version=%s", b.Packaged, b.ResolvedDependencies, b.Version)
	}
	if strings.Join(b.ValuesFiles, ",") != strings.Join(valuesFiles, ",") {
		t.Fatalf("observed values files = %v", b.ValuesFiles)
	}
	if got := depNames(b, t); got != "podinfo@6.14.1 remote-chart@1.1.0" {
		t.Fatalf("bundled dependencies = %s", got)
	}
	c := loadTgz(t, b.Data)
	if c.Metadata.Version != "0.1.0+4e5cbb7b97d0.2" {
		t.Errorf("packaged version = %s", c.Metadata.Version)
	}
	pi := c.Values["podinfo"].(map[string]any)
	ui := pi["ui"].(map[string]any)
	if c.Values["replicas"] != float64(3) || ui["color"] != "blue" || ui["message"] != "production" || pi["replicaCount"] != float64(1) {
		t.Fatalf("merged values = %v", c.Values)
	}

	again, err := BuildLocal(ctx, ref, opts, AnonymousResolver(helm.Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Data, b.Data) {
		t.Fatal("building the same source twice gave different bytes")
	}
}

func TestBuildLocalLockAndVendored(t *testing.T) {
	t.Parallel()
	repo := depRepo(t)
	root := umbrellaSource(t, repo.URL, map[string]string{
		// Chart.lock pins remote-chart to 1.0.0 although 1.x would pick 1.1.0.
		"charts/umbrella/Chart.lock": `dependencies:
- name: podinfo
  repository: file://../podinfo
  version: 6.14.1
- name: remote-chart
  repository: ` + repo.URL + `
  version: 1.0.0
digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
generated: "2024-01-01T00:00:00Z"
`,
	})
	// podinfo is vendored in charts/: it is not loaded again.
	copyDir(t, helmrepo.PodinfoDir(), filepath.Join(root, "charts", "umbrella", "charts", "podinfo"))
	b, err := BuildLocal(testContext(t), LocalReference{Root: root, Path: "charts/umbrella"}, BuildOptions{}, AnonymousResolver(helm.Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	if b.ResolvedDependencies != 1 {
		t.Fatalf("resolved %d dependencies, want 1 (podinfo is vendored)", b.ResolvedDependencies)
	}
	if got := depNames(b, t); got != "podinfo@6.14.1 remote-chart@1.0.0" {
		t.Fatalf("bundled dependencies = %s, want the locked remote-chart 1.0.0", got)
	}
}

func TestBuildLocalDependencyErrors(t *testing.T) {
	t.Parallel()
	repo := depRepo(t)
	outside := writeTree(t, map[string]string{"evil/Chart.yaml": "apiVersion: v2\nname: evil\nversion: 1.0.0\n"})
	cases := []struct {
		name, dep, want string
	}{
		{"file outside the artifact", "  - name: evil\n    version: '*'\n    repository: file://../../../../../../../../" + strings.TrimPrefix(outside, "/") + "/evil\n", "is outside the source artifact"},
		{"missing local chart", "  - name: nothere\n    version: '*'\n    repository: file://../nothere\n", "dependency 'nothere': no chart found at 'charts/nothere'"},
		{"local version mismatch", "  - name: podinfo\n    version: '5.x'\n    repository: file://../podinfo\n", "dependency 'podinfo': chart version '6.14.1' does not satisfy '5.x'"},
		{"repository alias", "  - name: redis\n    version: '*'\n    repository: '@bitnami'\n", "repository '@bitnami' is an alias"},
		{"no repository", "  - name: redis\n    version: '*'\n", "dependency 'redis': it has no repository"},
		{"remote version missing", "  - name: remote-chart\n    version: '9.x'\n    repository: " + repo.URL + "\n", "no 'remote-chart' chart with version matching '9.x' found"},
		{"remote repository down", "  - name: x\n    version: '*'\n    repository: http://127.0.0.1:1/charts\n", "repository 'http://127.0.0.1:1/charts/'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := umbrellaSource(t, repo.URL, map[string]string{
				"charts/umbrella/Chart.yaml": "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n" + tc.dep,
			})
			_, err := BuildLocal(testContext(t), LocalReference{Root: root, Path: "charts/umbrella"}, BuildOptions{}, AnonymousResolver(helm.Limits{}))
			wantReason(t, err, ReasonDependency, tc.want)
		})
	}
}

func TestBuildLocalPathSafety(t *testing.T) {
	t.Parallel()
	outside := writeTree(t, map[string]string{"values.yaml": "stolen: true\n", "chart/Chart.yaml": "apiVersion: v2\nname: x\nversion: 1.0.0\n"})
	root := writeTree(t, map[string]string{
		"chart/Chart.yaml":  "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
		"chart/values.yaml": "a: 1\n",
		"env/prod.yaml":     "a: 2\n",
		"env/broken.yaml":   "a: [1,\n",
	})
	symlink(t, filepath.Join(outside, "values.yaml"), filepath.Join(root, "env/stolen.yaml"))
	symlink(t, filepath.Join(outside, "chart"), filepath.Join(root, "linked-chart"))
	ctx := testContext(t)
	build := func(chartPath string, opts BuildOptions) error {
		_, err := BuildLocal(ctx, LocalReference{Root: root, Path: chartPath}, opts, nil)
		return err
	}

	wantReason(t, build("../chart", BuildOptions{}), ReasonChartReference, "path '../chart' is outside the source artifact")
	wantReason(t, build("/chart", BuildOptions{}), ReasonChartReference, "path '/chart' must be relative")
	wantReason(t, build("linked-chart", BuildOptions{}), ReasonChartReference, "path 'linked-chart' resolves through a symlink to outside the source artifact")
	wantReason(t, build("nochart", BuildOptions{}), ReasonChartReference, "path 'nochart' does not exist")
	wantReason(t, build("env", BuildOptions{}), ReasonChartReference, "no Chart.yaml in chart directory 'env'")

	wantReason(t, build("chart", BuildOptions{ValuesFiles: []string{"../values.yaml"}}), ReasonValuesFiles, "path '../values.yaml' is outside the source artifact")
	wantReason(t, build("chart", BuildOptions{ValuesFiles: []string{"env/stolen.yaml"}}), ReasonValuesFiles, "path 'env/stolen.yaml' resolves through a symlink to outside the source artifact")
	wantReason(t, build("chart", BuildOptions{ValuesFiles: []string{"env/prod.yaml", "env/none.yaml"}}), ReasonValuesFiles, "no values file found at path 'env/none.yaml'")
	wantReason(t, build("chart", BuildOptions{ValuesFiles: []string{"env/broken.yaml"}}), ReasonValuesFiles, "failed to parse values file 'env/broken.yaml'", "line")
	wantReason(t, build("chart", BuildOptions{ValuesFiles: []string{"env"}}), ReasonValuesFiles, "values file 'env' is not a regular file")

	b, err := BuildLocal(ctx, LocalReference{Root: root, Path: "chart"}, BuildOptions{ValuesFiles: []string{"env/none.yaml", "env/prod.yaml"}, IgnoreMissingValuesFiles: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(b.ValuesFiles, ",") != "env/prod.yaml" || loadTgz(t, b.Data).Values["a"] != float64(2) {
		t.Fatalf("observed %v, values %v", b.ValuesFiles, loadTgz(t, b.Data).Values)
	}
	// Every values file missing and ignored: the chart keeps its own values.
	b, err = BuildLocal(ctx, LocalReference{Root: root, Path: "chart"}, BuildOptions{ValuesFiles: []string{"env/none.yaml", "env/gone.yaml"}, IgnoreMissingValuesFiles: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.ValuesFiles) != 0 || loadTgz(t, b.Data).Values["a"] != float64(1) {
		t.Fatalf("observed %v, values %v", b.ValuesFiles, loadTgz(t, b.Data).Values)
	}
}

func TestBuildLocalPackagedChart(t *testing.T) {
	t.Parallel()
	data := helmrepo.Package(t, helmrepo.PodinfoDir(), "", "6.3.0")
	root := writeTree(t, nil)
	if err := os.WriteFile(filepath.Join(root, "podinfo-6.3.0.tgz"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ref := LocalReference{Root: root, Path: "podinfo-6.3.0.tgz"}
	b, err := BuildLocal(testContext(t), ref, BuildOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Packaged || !bytes.Equal(b.Data, data) || b.Summary() != "pulled 'podinfo' chart with version '6.3.0'" {
		t.Fatalf("packaged=%v same=%v summary=%q", b.Packaged, bytes.Equal(b.Data, data), b.Summary())
	}
	b, err = BuildLocal(testContext(t), ref, BuildOptions{VersionMetadata: "abc"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Packaged || loadTgz(t, b.Data).Metadata.Version != "6.3.0+abc" {
		t.Fatalf("with metadata: packaged=%v", b.Packaged)
	}
}

func TestVersionMetadata(t *testing.T) {
	const sha1 = "4e5cbb7b97d00a8039b8810b90b922f4256fd3bd"
	cases := []struct {
		o    MetadataOptions
		want string
	}{
		{MetadataOptions{SourceKind: "GitRepository", ReconcileStrategy: "ChartVersion", SourceRevision: "main@sha1:" + sha1}, ""},
		{MetadataOptions{SourceKind: "GitRepository", ReconcileStrategy: "Revision", SourceRevision: "main@sha1:" + sha1}, "4e5cbb7b97d0"},
		{MetadataOptions{SourceKind: "GitRepository", ReconcileStrategy: "Revision", SourceRevision: "main/" + sha1}, "4e5cbb7b97d0"},
		{MetadataOptions{SourceKind: "Bucket", ReconcileStrategy: "Revision", SourceRevision: "sha256:8d1f0ac3f4b0e8759a32180086f17ac87ca04e5d46c356e67f97e97616ef4718"}, "8d1f0ac3f4b0"},
		{MetadataOptions{SourceKind: "Bucket", ReconcileStrategy: "Revision", SourceRevision: "sha256:8d1f0ac3f4b0e87", ValuesFiles: []string{"a.yaml"}, Generation: 4}, "8d1f0ac3f4b0.4"},
		{MetadataOptions{SourceKind: "HelmRepository", ReconcileStrategy: "Revision", SourceRevision: "sha256:abc", ValuesFiles: []string{"a.yaml"}, Generation: 7}, "7"},
		{MetadataOptions{SourceKind: "HelmRepository", ValuesFiles: []string{"values.yaml"}, Generation: 7}, ""},
	}
	for _, tc := range cases {
		if got := VersionMetadata(tc.o); got != tc.want {
			t.Errorf("VersionMetadata(%+v) = %q, want %q", tc.o, got, tc.want)
		}
	}
}

// TestBuildLocalDependencyWithCredentials: the resolver maps a dependency's repository URL to
// a HelmRepository's credentials, as the reconciler does; an unknown URL is fetched
// anonymously and fails on a protected repository.
func TestBuildLocalDependencyWithCredentials(t *testing.T) {
	t.Parallel()
	const password = "dep-repo-password"
	repo := helmrepo.New(t, helmrepo.Options{Username: "helm", Password: password})
	src := helmrepo.WriteChartDir(t, t.TempDir(), "remote-chart", "remote-chart", "1.0.0", nil)
	repo.AddChart(t, helmrepo.Package(t, src, "", "1.0.0"))
	root := umbrellaSource(t, repo.URL, map[string]string{
		"charts/umbrella/Chart.yaml": "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n- name: remote-chart\n  version: '1.x'\n  repository: " + repo.URL + "\n",
	})
	known := map[string]repository.ClientOptions{
		repository.NormalizeURL(repo.URL): {URL: repo.URL, Username: "helm", Password: password},
	}
	anonymous := AnonymousResolver(helm.Limits{})
	resolve := func(ctx context.Context, url string) (Remote, error) {
		opts, ok := known[url]
		if !ok {
			return anonymous(ctx, url)
		}
		c, err := repository.NewClient(opts)
		if err != nil {
			return nil, err
		}
		idx, err := c.FetchIndex(ctx)
		if err != nil {
			return nil, err
		}
		return &repository.ChartRepository{Client: c, Index: idx.File}, nil
	}
	ref := LocalReference{Root: root, Path: "charts/umbrella"}
	b, err := BuildLocal(testContext(t), ref, BuildOptions{}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if got := depNames(b, t); got != "remote-chart@1.0.0" {
		t.Fatalf("dependencies = %s", got)
	}
	_, err = BuildLocal(testContext(t), ref, BuildOptions{}, anonymous)
	wantReason(t, err, ReasonDependency, "401", "no credentials were sent")
	if strings.Contains(err.Error(), password) {
		t.Fatalf("error leaks the password: %v", err)
	}
}
