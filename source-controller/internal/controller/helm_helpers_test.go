package controller

import (
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/repo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/helmrepo"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// newHelmRepository returns a HelmRepository of url with a long interval, changed by mutate.
func newHelmRepository(ns, name, url string, mutate func(*sourcev1.HelmRepository)) *sourcev1.HelmRepository {
	obj := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.HelmRepositorySpec{
			URL:      url,
			Interval: metav1.Duration{Duration: time.Hour},
			Timeout:  &metav1.Duration{Duration: 10 * time.Second},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	return obj
}

// newHelmChart returns a HelmChart of chart from the source kind/name, changed by mutate.
func newHelmChart(ns, name, kind, source, chartName string, mutate func(*sourcev1.HelmChart)) *sourcev1.HelmChart {
	obj := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.HelmChartSpec{
			Chart:     chartName,
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: kind, Name: source},
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	return obj
}

// podinfoRepo serves the podinfo chart at the given versions.
func podinfoRepo(t *testing.T, opts helmrepo.Options, versions ...string) *helmrepo.Server {
	t.Helper()
	srv := helmrepo.New(t, opts)
	srv.AddPodinfo(t, versions...)
	return srv
}

// readyHelmRepository creates a HelmRepository of url in ns and waits for its index.
func readyHelmRepository(t *testing.T, ns, name, url string, mutate func(*sourcev1.HelmRepository)) *sourcev1.HelmRepository {
	t.Helper()
	repo := newHelmRepository(ns, name, url, mutate)
	create(t, repo)
	waitReady(t, repo)
	return repo
}

// eventsOf counts the events of reason received for obj.
func eventsOf(kind, ns, name, reason string) int {
	return len(suiteEnv.events.Of(kind, ns, name, reason))
}

// parseIndex parses an index.yaml.
func parseIndex(t *testing.T, data []byte) *repo.IndexFile {
	t.Helper()
	var idx repo.IndexFile
	if err := yaml.Unmarshal(data, &idx); err != nil {
		t.Fatalf("index does not parse: %v", err)
	}
	return &idx
}
