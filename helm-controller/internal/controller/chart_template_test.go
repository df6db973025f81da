package controller

import (
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// getHelmChart reads a HelmChart; nil when it does not exist.
func getHelmChart(t *testing.T, ns, name string) *sourcev1.HelmChart {
	t.Helper()
	var hc sourcev1.HelmChart
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &hc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	return &hc
}

// TestChartTemplate: spec.chart makes the controller create and own the HelmChart
// <ns>-<name> in the namespace of its sourceRef, keep it as the template says, release its
// artifact (served here as source-controller would), delete it when the HelmRelease moves
// to spec.chartRef, and delete it with the HelmRelease.
func TestChartTemplate(t *testing.T) {
	t.Parallel()
	ns, srcNS := newNamespace(t), newNamespace(t)
	hr := newHR(t, ns, "app", "", noWait, func(hr *v2.HelmRelease) {
		hr.Spec.ChartRef = nil
		hr.Spec.Chart = &v2.HelmChartTemplate{
			ObjectMeta: &v2.HelmChartTemplateObjectMeta{Labels: map[string]string{"team": "a"}},
			Spec: v2.HelmChartTemplateSpec{
				Chart: "widgets", Version: "1.0.x",
				SourceRef: v2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts", Namespace: srcNS},
			},
		}
	})
	name := ns + "-app"
	var hc *sourcev1.HelmChart
	eventually(t, 20*time.Second, func() error {
		if hc = getHelmChart(t, srcNS, name); hc == nil {
			return fmt.Errorf("HelmChart %s/%s not created", srcNS, name)
		}
		return nil
	})
	if hc.Spec.Chart != "widgets" || hc.Spec.Version != "1.0.x" || hc.Spec.SourceRef.Name != "charts" ||
		hc.Spec.Interval.Duration != time.Hour || hc.Labels["team"] != "a" ||
		hc.Labels[v2.NameLabel] != "app" || hc.Labels[v2.NamespaceLabel] != ns {
		t.Fatalf("HelmChart = %+v", hc)
	}
	waitReadyReason(t, ns, "app", metav1.ConditionFalse, sourceNotReadyReason, 20*time.Second)

	// source-controller builds the chart.
	setArtifact(t, hc, storeChart(t, sourcev1.HelmChartKind, srcNS, name, chartOf(t, "widgets"), ""))
	got := waitReady(t, ns, "app", 60*time.Second)
	if got.Status.HelmChart != srcNS+"/"+name || got.Status.History.Latest().ChartVersion != "1.0.0" {
		t.Fatalf("after release: %s (helmChart %q)", describe(got), got.Status.HelmChart)
	}
	waitEvent(t, ns, "app", "HelmChartCreated")

	// The template changes: so does the HelmChart.
	updateHR(t, ns, "app", func(hr *v2.HelmRelease) { hr.Spec.Chart.Spec.Version = "1.1.x" })
	eventually(t, 20*time.Second, func() error {
		if hc := getHelmChart(t, srcNS, name); hc == nil || hc.Spec.Version != "1.1.x" {
			return fmt.Errorf("HelmChart not updated: %+v", hc)
		}
		return nil
	})
	waitEvent(t, ns, "app", "HelmChartConfigured")

	// Moving to spec.chartRef garbage-collects the HelmChart.
	helmChartSource(t, ns, "own", chartOf(t, "widgets"))
	updateHR(t, ns, "app", func(hr *v2.HelmRelease) {
		hr.Spec.Chart = nil
		hr.Spec.ChartRef = &v2.CrossNamespaceSourceReference{Kind: sourcev1.HelmChartKind, Name: "own"}
	})
	got = waitFor(t, ns, "app", 60*time.Second, "HelmChart forgotten", func(hr *v2.HelmRelease) bool {
		return hr.Status.HelmChart == "" && isReady(hr)
	})
	if getHelmChart(t, srcNS, name) != nil {
		t.Error("HelmChart of the template not deleted after moving to spec.chartRef")
	}
	if got.Status.History.Latest().Version != 1 {
		t.Errorf("same chart and values from another source should not release again: %s", describe(got))
	}
	_ = hr
}

// TestChartTemplateDeletedWithRelease: deleting the HelmRelease deletes its HelmChart.
func TestChartTemplateDeletedWithRelease(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	newHR(t, ns, "app", "", noWait, func(hr *v2.HelmRelease) {
		hr.Spec.ChartRef = nil
		hr.Spec.Chart = &v2.HelmChartTemplate{Spec: v2.HelmChartTemplateSpec{
			Chart: "widgets", SourceRef: v2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts"}}}
	})
	var hc *sourcev1.HelmChart
	eventually(t, 20*time.Second, func() error {
		if hc = getHelmChart(t, ns, ns+"-app"); hc == nil {
			return fmt.Errorf("HelmChart not created")
		}
		return nil
	})
	setArtifact(t, hc, storeChart(t, sourcev1.HelmChartKind, ns, hc.Name, chartOf(t, "widgets"), ""))
	waitReady(t, ns, "app", 60*time.Second)
	deleteHR(t, ns, "app")
	if getHelmChart(t, ns, ns+"-app") != nil {
		t.Error("HelmChart left behind by the deleted HelmRelease")
	}
	if latestRelease(t, ns, "app") != nil {
		t.Error("release left behind by the deleted HelmRelease")
	}
}
