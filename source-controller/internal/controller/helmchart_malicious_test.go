package controller

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestHelmChartBadInput: a chart archive with "../" entries, a chart file over
// --helm-chart-file-max-size, values files outside the chart or the source, an unknown chart
// or version, a missing source and a source without artifact each get a condition naming
// the object's problem (the entry, file, chart or source); nothing is written outside the
// working directory and a healthy chart from the same repository is not affected.
func TestHelmChartBadInput(t *testing.T) {
	t.Parallel()
	srv := podinfoRepo(t, helmrepo.Options{}, "6.0.0")
	chartYAML := "apiVersion: v2\nname: evil\nversion: 1.0.0\n"
	srv.AddRawChart(t, "evil", "1.0.0", tarGz(t,
		tarFile{name: "evil/Chart.yaml", content: chartYAML},
		tarFile{name: "evil/../../escaped.txt", content: "out"}))
	srv.AddRawChart(t, "big", "1.0.0", tarGz(t,
		tarFile{name: "big/Chart.yaml", content: "apiVersion: v2\nname: big\nversion: 1.0.0\n"},
		tarFile{name: "big/templates/big.yaml", content: strings.Repeat("#", int(testHelmLimits.MaxChartFileSize)+1)}))
	git := gitserver.New(t, gitserver.Options{})
	url, err := git.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	git.Commit("app").Files(helmrepo.ReadTree(t, helmrepo.PodinfoDir(), "podinfo")).MustDo(t)

	ns := newNamespace(t)
	readyHelmRepository(t, ns, "repo", srv.URL, nil)
	createSecret(t, ns, "wrong", "", map[string][]byte{"username": []byte("u"), "password": []byte("p")})
	locked := helmrepo.New(t, helmrepo.Options{Username: "flux", Password: "right"})
	create(t, newHelmRepository(ns, "locked", locked.URL, func(o *sourcev1.HelmRepository) { o.Spec.SecretRef = &metaRef{Name: "wrong"} }))
	gitRepo := newGitRepository(ns, "app", url, func(o *sourcev1.GitRepository) { o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"} })
	create(t, gitRepo)
	waitReady(t, gitRepo)

	for _, tc := range []struct {
		name              string
		chart             *sourcev1.HelmChart
		condition, reason string
		stalled           bool
		fragments         []string
	}{
		{"traversal-entry", newHelmChart(ns, "traversal-entry", sourcev1.HelmRepositoryKind, "repo", "evil", nil),
			sourcev1.FetchFailedCondition, "ChartPullError", false, []string{"chart 'evil' version '1.0.0'", "escaped.txt"}},
		{"file-over-limit", newHelmChart(ns, "file-over-limit", sourcev1.HelmRepositoryKind, "repo", "big", nil),
			sourcev1.FetchFailedCondition, "ChartPullError", false, []string{"big/templates/big.yaml", "--helm-chart-file-max-size"}},
		{"values-outside-chart", newHelmChart(ns, "values-outside-chart", sourcev1.HelmRepositoryKind, "repo", "podinfo",
			func(o *sourcev1.HelmChart) { o.Spec.ValuesFiles = []string{"../../../etc/passwd"} }),
			sourcev1.BuildFailedCondition, "ValuesFilesError", true, []string{"../../../etc/passwd"}},
		{"values-outside-source", newHelmChart(ns, "values-outside-source", sourcev1.GitRepositoryKind, "app", "podinfo",
			func(o *sourcev1.HelmChart) { o.Spec.ValuesFiles = []string{"podinfo/../../outside.yaml"} }),
			sourcev1.BuildFailedCondition, "ValuesFilesError", true, []string{"podinfo/../../outside.yaml"}},
		{"unknown-chart", newHelmChart(ns, "unknown-chart", sourcev1.HelmRepositoryKind, "repo", "absent", nil),
			sourcev1.FetchFailedCondition, "InvalidChartReference", true, []string{"no chart named 'absent'"}},
		{"unknown-version", newHelmChart(ns, "unknown-version", sourcev1.HelmRepositoryKind, "repo", "podinfo",
			func(o *sourcev1.HelmChart) { o.Spec.Version = "9.x" }),
			sourcev1.FetchFailedCondition, "InvalidChartReference", true, []string{"'podinfo'", "'9.x'"}},
		{"missing-source", newHelmChart(ns, "missing-source", sourcev1.HelmRepositoryKind, "absent", "podinfo", nil),
			sourcev1.FetchFailedCondition, "SourceUnavailable", false, []string{"HelmRepository '" + ns + "/absent' not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			create(t, tc.chart)
			waitNotReady(t, tc.chart, tc.reason)
			wantCondition(t, tc.chart, tc.condition, metav1.ConditionTrue, tc.reason, tc.fragments...)
			if got := reconcile.IsTrue(tc.chart, meta.StalledCondition); got != tc.stalled {
				t.Errorf("Stalled = %v, want %v", got, tc.stalled)
			}
			if tc.chart.Status.Artifact != nil {
				t.Error("an artifact was stored")
			}
		})
	}

	// A chart whose repository has no index yet waits for it, without a failure condition.
	waiting := newHelmChart(ns, "waiting", sourcev1.HelmRepositoryKind, "locked", "podinfo", nil)
	create(t, waiting)
	waitNotReady(t, waiting, reasonNoSourceArtifact)
	wantCondition(t, waiting, meta.ReadyCondition, metav1.ConditionFalse, reasonNoSourceArtifact, "no artifact available for HelmRepository source 'locked'")
	wantNoCondition(t, waiting, meta.StalledCondition)

	healthy := newHelmChart(ns, "healthy", sourcev1.HelmRepositoryKind, "repo", "podinfo", nil)
	create(t, healthy)
	waitRevision(t, healthy, "6.0.0")
	for _, p := range []string{filepath.Dir(suiteEnv.workDir), filepath.Dir(filepath.Dir(suiteEnv.workDir))} {
		if _, err := os.Stat(filepath.Join(p, "escaped.txt")); !os.IsNotExist(err) {
			t.Errorf("a chart entry was written outside the working directory: %v", err)
		}
	}
}
