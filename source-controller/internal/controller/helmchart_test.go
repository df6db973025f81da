package controller

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/helmrepo"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestHelmChartFromHelmRepository pulls the latest stable podinfo from an HTTP repository:
// the artifact is the archive as served (its digest the index's), the revision the chart
// version, the observed fields and the event as upstream; a new version in the repository
// reaches the chart through the repository's new index, without touching the chart.
func TestHelmChartFromHelmRepository(t *testing.T) {
	t.Parallel()
	srv := podinfoRepo(t, helmrepo.Options{}, "6.0.0", "6.1.0", "6.2.0-rc.1")
	ns := newNamespace(t)
	repo := readyHelmRepository(t, ns, "podinfo", srv.URL, nil)
	obj := newHelmChart(ns, "podinfo", sourcev1.HelmRepositoryKind, "podinfo", "podinfo", nil)
	create(t, obj)
	waitRevision(t, obj, "6.1.0")
	a := obj.Status.Artifact
	data := download(t, a)
	if want := "sha256:" + indexDigest(t, srv, "podinfo", "6.1.0"); a.Digest != want {
		t.Errorf("artifact digest %s, want the archive's as listed in the index %s", a.Digest, want)
	}
	c := loadChart(t, data)
	if c.Name() != "podinfo" || c.Metadata.Version != "6.1.0" {
		t.Errorf("stored chart %s %s", c.Name(), c.Metadata.Version)
	}
	if obj.Status.ObservedChartName != "podinfo" || obj.Status.ObservedSourceArtifactRevision != repo.Status.Artifact.Revision ||
		obj.Status.URL != a.URL || len(obj.Status.ObservedValuesFiles) != 0 {
		t.Errorf("status = %+v", obj.Status)
	}
	summary := "pulled 'podinfo' chart with version '6.1.0'"
	wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, summary)
	wantCondition(t, obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, summary)
	eventually(t, "a ChartPullSucceeded event", func() bool {
		return eventsOf(sourcev1.HelmChartKind, ns, "podinfo", sourcev1.ChartPullSucceededReason) == 1
	})
	ev := suiteEnv.events.Of(sourcev1.HelmChartKind, ns, "podinfo", sourcev1.ChartPullSucceededReason)[0]
	if md := eventsink.UpstreamMetadata(ev); md["revision"] != "6.1.0" || md["digest"] != a.Digest || ev.Message != summary {
		t.Errorf("event %q metadata %v", ev.Message, ev.Metadata)
	}

	// A reconcile request of a current chart rebuilds nothing.
	downloads := chartDownloads(srv)
	token := requestReconcile(t, obj)
	waitFor(t, obj, "request handled", func(o *sourcev1.HelmChart) bool { return o.Status.LastHandledReconcileAt == token })
	if chartDownloads(srv) != downloads || obj.Status.Artifact.Digest != a.Digest || !obj.Status.Artifact.LastUpdateTime.Equal(&a.LastUpdateTime) {
		t.Error("a reconcile request of a current chart downloaded or stored it again")
	}
	wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, summary)

	// A new version: the repository's next index wakes the chart.
	srv.AddPodinfo(t, "6.3.0")
	requestReconcile(t, repo)
	waitRevision(t, obj, "6.3.0")
	wantNoCondition(t, obj, sourcev1.ArtifactOutdatedCondition)
	get(t, repo)
	if obj.Status.ObservedSourceArtifactRevision != repo.Status.Artifact.Revision {
		t.Errorf("observedSourceArtifactRevision %s, want the new index %s", obj.Status.ObservedSourceArtifactRevision, repo.Status.Artifact.Revision)
	}
}

// TestHelmChartsShareIndexAndBlob: many HelmCharts of one chart version over one repository
// parse the index at most once (the repository's reconcile hands it to the cache), download
// the archive once and share one stored blob.
func TestHelmChartsShareIndexAndBlob(t *testing.T) {
	t.Parallel()
	srv := podinfoRepo(t, helmrepo.Options{}, "6.0.0", "6.1.0")
	ns := newNamespace(t)
	readyHelmRepository(t, ns, "shared", srv.URL, nil)
	const n = 12
	var charts []*sourcev1.HelmChart
	for i := range n {
		obj := newHelmChart(ns, fmt.Sprintf("app-%d", i), sourcev1.HelmRepositoryKind, "shared", "podinfo",
			func(o *sourcev1.HelmChart) { o.Spec.Version = "6.1.x" })
		create(t, obj)
		charts = append(charts, obj)
	}
	for _, obj := range charts {
		waitRevision(t, obj, "6.1.0")
	}
	if loads := suiteEnv.indexLoads.get(ns + "/shared"); loads > 1 {
		t.Errorf("the index was parsed %d times for %d charts, want at most once", loads, n)
	}
	if got := chartDownloads(srv); got != 1 {
		t.Errorf("the chart archive was downloaded %d times for %d charts, want once", got, n)
	}
	first, err := os.Stat(suiteEnv.storage.LocalPath(charts[0].Status.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range charts[1:] {
		fi, err := os.Stat(suiteEnv.storage.LocalPath(obj.Status.Artifact))
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(first, fi) || obj.Status.Artifact.Digest != charts[0].Status.Artifact.Digest {
			t.Errorf("%s does not share the stored chart of %s", obj.Name, charts[0].Name)
		}
	}
}

// TestHelmChartValuesFiles merges values files from the chart into values.yaml: the chart is
// packaged with the generation as build metadata, observedValuesFiles lists the files used,
// and ignoreMissingValuesFiles leaves a missing one out.
func TestHelmChartValuesFiles(t *testing.T) {
	t.Parallel()
	srv := podinfoRepo(t, helmrepo.Options{}, "6.1.0")
	ns := newNamespace(t)
	readyHelmRepository(t, ns, "podinfo", srv.URL, nil)
	obj := newHelmChart(ns, "prod", sourcev1.HelmRepositoryKind, "podinfo", "podinfo", func(o *sourcev1.HelmChart) {
		o.Spec.ValuesFiles = []string{"values.yaml", "values-prod.yaml", "values-missing.yaml"}
		o.Spec.IgnoreMissingValuesFiles = true
	})
	create(t, obj)
	waitRevision(t, obj, "6.1.0+1")
	if got := strings.Join(obj.Status.ObservedValuesFiles, ","); got != "values.yaml,values-prod.yaml" {
		t.Errorf("observedValuesFiles = %v", obj.Status.ObservedValuesFiles)
	}
	wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, sourcev1.ChartPackageSucceededReason,
		"packaged 'podinfo' chart with version '6.1.0+1'")
	c := loadChart(t, download(t, obj.Status.Artifact))
	if redis, _ := c.Values["redis"].(map[string]any); redis["enabled"] != true || c.Metadata.Version != "6.1.0+1" {
		t.Errorf("packaged chart %s: redis values %v, want values-prod.yaml merged in", c.Metadata.Version, redis)
	}

	// A spec change is a new generation, so a new version.
	update(t, obj, func(o *sourcev1.HelmChart) { o.Spec.ValuesFiles = []string{"values-prod.yaml"} })
	waitRevision(t, obj, "6.1.0+2")
	if got := strings.Join(obj.Status.ObservedValuesFiles, ","); got != "values-prod.yaml" {
		t.Errorf("observedValuesFiles = %v", obj.Status.ObservedValuesFiles)
	}
}

// indexDigest is the digest the repository's index lists for a chart version.
func indexDigest(t *testing.T, srv *helmrepo.Server, name, version string) string {
	t.Helper()
	idx := parseIndex(t, srv.IndexYAML(t))
	for _, cv := range idx.Entries[name] {
		if cv.Version == version {
			return cv.Digest
		}
	}
	t.Fatalf("%s %s is not in the index", name, version)
	return ""
}

// chartDownloads counts the chart archive requests a repository server answered.
func chartDownloads(srv *helmrepo.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, ".tgz") {
			n++
		}
	}
	return n
}

// loadChart loads a chart archive with helm's loader.
func loadChart(t *testing.T, data []byte) *chart.Chart {
	t.Helper()
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("stored chart does not load: %v", err)
	}
	return c
}
