package chart

import (
	"bytes"
	"strings"
	"testing"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/repository"

	"gotk.dev/internal/testing/helmrepo"
)

// podinfoRemote serves podinfo 6.0.0, 6.1.0 and 6.2.0 from a test repository and returns it
// with its index loaded.
func podinfoRemote(t *testing.T) (*repository.ChartRepository, *helmrepo.Server, map[string][]byte) {
	t.Helper()
	r := helmrepo.New(t, helmrepo.Options{})
	charts := map[string][]byte{}
	for _, v := range []string{"6.0.0", "6.1.0", "6.2.0"} {
		charts[v] = helmrepo.Package(t, helmrepo.PodinfoDir(), "", v)
		r.AddChart(t, charts[v])
	}
	return openRemote(t, r.URL), r, charts
}

func openRemote(t *testing.T, url string) *repository.ChartRepository {
	t.Helper()
	c, err := repository.NewClient(repository.ClientOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	idx, err := c.FetchIndex(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return &repository.ChartRepository{Client: c, Index: idx.File}
}

func TestBuildRemotePull(t *testing.T) {
	t.Parallel()
	remote, _, charts := podinfoRemote(t)
	ctx := testContext(t)
	res, err := ResolveRemote(ctx, remote, RemoteReference{Name: "podinfo", Version: "6.1.x"}, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "podinfo" || res.Version != "6.1.0" || res.FileName() != "podinfo-6.1.0.tgz" {
		t.Fatalf("resolved %+v", res)
	}
	b, err := BuildRemote(ctx, remote, res, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Packaged || !bytes.Equal(b.Data, charts["6.1.0"]) {
		t.Fatal("a chart needing no change was not stored exactly as served")
	}
	if b.Summary() != "pulled 'podinfo' chart with version '6.1.0'" {
		t.Errorf("summary = %q", b.Summary())
	}
}

func TestBuildRemoteValuesFiles(t *testing.T) {
	t.Parallel()
	remote, _, _ := podinfoRemote(t)
	ctx := testContext(t)
	opts := BuildOptions{
		ValuesFiles:     []string{"values.yaml", "values-prod.yaml"},
		VersionMetadata: VersionMetadata(MetadataOptions{SourceKind: "HelmRepository", ValuesFiles: []string{"values.yaml", "values-prod.yaml"}, Generation: 3}),
	}
	res, err := ResolveRemote(ctx, remote, RemoteReference{Name: "podinfo"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "6.2.0+3" {
		t.Fatalf("version = %s, want 6.2.0+3 (generation as build metadata)", res.Version)
	}
	b, err := BuildRemote(ctx, remote, res, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Packaged || strings.Join(b.ValuesFiles, ",") != "values.yaml,values-prod.yaml" {
		t.Fatalf("packaged=%v valuesFiles=%v", b.Packaged, b.ValuesFiles)
	}
	if b.Summary() != "packaged 'podinfo' chart with version '6.2.0+3' and merged values files [values.yaml values-prod.yaml]" {
		t.Errorf("summary = %q", b.Summary())
	}
	c := loadTgz(t, b.Data)
	if c.Metadata.Version != "6.2.0+3" {
		t.Errorf("packaged chart version = %s", c.Metadata.Version)
	}
	// values-prod.yaml drops "host" and "prefix", which values.yaml sets: merged, both stay.
	if _, ok := c.Values["prefix"]; !ok {
		t.Error("values.yaml keys were lost in the merge")
	}
	if redis, _ := c.Values["redis"].(map[string]any); redis["enabled"] != true {
		t.Errorf("redis.enabled = %v, want values-prod.yaml's true", redis["enabled"])
	}

	again, err := BuildRemote(ctx, remote, res, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Data, b.Data) {
		t.Fatal("packaging the same chart twice gave different bytes")
	}

	// Values files missing from the chart.
	missing := BuildOptions{ValuesFiles: []string{"values-prod.yaml", "values-staging.yaml"}}
	_, err = BuildRemote(ctx, remote, res, missing)
	wantReason(t, err, ReasonValuesFiles, "no values file found at path 'values-staging.yaml' in chart 'podinfo'")
	missing.IgnoreMissingValuesFiles = true
	b, err = BuildRemote(ctx, remote, res, missing)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(b.ValuesFiles, ",") != "values-prod.yaml" {
		t.Fatalf("observed values files = %v, want only the one found", b.ValuesFiles)
	}
	_, err = BuildRemote(ctx, remote, res, BuildOptions{ValuesFiles: []string{"../../etc/passwd"}})
	wantReason(t, err, ReasonValuesFiles, "path '../../etc/passwd' is outside the chart")

	// A lone "values.yaml" changes nothing: the chart is stored as served.
	b, err = BuildRemote(ctx, remote, &Resolved{Name: "podinfo", Version: "6.2.0", ChartVersion: res.ChartVersion}, BuildOptions{ValuesFiles: []string{"values.yaml"}})
	if err != nil || b.Packaged {
		t.Fatalf("lone values.yaml: packaged=%v err=%v", b != nil && b.Packaged, err)
	}
}

func TestResolveRemoteErrors(t *testing.T) {
	t.Parallel()
	remote, _, _ := podinfoRemote(t)
	ctx := testContext(t)
	_, err := ResolveRemote(ctx, remote, RemoteReference{Name: "podinfo", Version: "9.*"}, BuildOptions{})
	wantReason(t, err, ReasonChartReference, "no 'podinfo' chart with version matching '9.*' found")
	_, err = ResolveRemote(ctx, remote, RemoteReference{Name: "nginx"}, BuildOptions{})
	wantReason(t, err, ReasonChartReference, "no chart named 'nginx'")
	_, err = ResolveRemote(ctx, remote, RemoteReference{Name: "../podinfo"}, BuildOptions{})
	wantReason(t, err, ReasonChartReference, "invalid chart name '../podinfo'")
	_, err = ResolveRemote(ctx, remote, RemoteReference{Name: "podinfo"}, BuildOptions{VersionMetadata: "not valid!"})
	wantReason(t, err, ReasonMetadataPatch, "cannot set build metadata 'not valid!'")
}

func TestBuildRemotePullErrors(t *testing.T) {
	t.Parallel()
	remote, r, _ := podinfoRemote(t)
	ctx := testContext(t)

	// The repository serves an archive with a symlink entry for podinfo 6.2.0.
	r.PutFile("charts/podinfo-6.2.0.tgz", makeTgz(t, tarEntry{name: "podinfo/Chart.yaml", body: "apiVersion: v2\nname: podinfo\nversion: 6.2.0\n"},
		tarEntry{name: "podinfo/templates/x.yaml", typeflag: '2', linkname: "/etc/shadow"}))
	res, err := ResolveRemote(ctx, remote, RemoteReference{Name: "podinfo"}, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = BuildRemote(ctx, remote, res, BuildOptions{})
	wantReason(t, err, ReasonChartPull, "entry 'podinfo/templates/x.yaml' is a symlink")

	// Oversize chart.
	small := openRemote(t, r.URL)
	small.Client, _ = repository.NewClient(repository.ClientOptions{URL: r.URL, Limits: helm.Limits{MaxChartSize: 512}})
	res, _ = ResolveRemote(ctx, small, RemoteReference{Name: "podinfo", Version: "6.0.0"}, BuildOptions{})
	_, err = BuildRemote(ctx, small, res, BuildOptions{})
	wantReason(t, err, ReasonChartPull, "--helm-chart-max-size")

	// The chart file is gone.
	r.PutFile("charts/podinfo-6.1.0.tgz", nil)
	res, _ = ResolveRemote(ctx, remote, RemoteReference{Name: "podinfo", Version: "6.1.0"}, BuildOptions{})
	_, err = BuildRemote(ctx, remote, res, BuildOptions{})
	wantReason(t, err, ReasonChartPull)
}
