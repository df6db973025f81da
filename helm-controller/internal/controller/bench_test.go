package controller

import (
	"strings"
	"testing"
	"time"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/internal/testing/requestlog"
)

// BenchmarkPodinfoRelease measures what one HelmRelease of podinfo costs against a real API
// server, in three scenarios: the install (with health verification of its objects), a
// no-op re-reconcile with drift detection enabled, and an upgrade to new values. It reports
// wall time (from the trigger to Ready at the new state) and the API requests the
// controller sent, by kind. Run with `make bench`.
func BenchmarkPodinfoRelease(b *testing.B) {
	drift := func(hr *v2.HelmRelease) { hr.Spec.DriftDetection = &v2.DriftDetection{Mode: v2.DriftDetectionEnabled} }
	var install, noop, upgrade = newTally(), newTally(), newTally()
	for i := 0; i < b.N; i++ {
		ns := newNamespace(b)
		helmChartSource(b, ns, "podinfo", chartOf(b, "podinfo"))

		mark := suiteEnv.requests.Mark()
		start := time.Now()
		newHR(b, ns, "podinfo", "podinfo", drift, withValues("replicaCount: 1"))
		waitReady(b, ns, "podinfo", time.Minute)
		install.Add(time.Since(start), suiteEnv.requests.Since(mark, ns))
		time.Sleep(300 * time.Millisecond) // let late status writes land before the next mark

		mark = suiteEnv.requests.Mark()
		start = time.Now()
		token := annotate(b, ns, "podinfo")
		waitFor(b, ns, "podinfo", 20*time.Second, "handled", func(hr *v2.HelmRelease) bool { return hr.Status.LastHandledReconcileAt == token })
		noop.Add(time.Since(start), suiteEnv.requests.Since(mark, ns))
		time.Sleep(300 * time.Millisecond)

		mark = suiteEnv.requests.Mark()
		start = time.Now()
		updateHR(b, ns, "podinfo", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("replicaCount: 2") })
		waitFor(b, ns, "podinfo", time.Minute, "upgraded", func(hr *v2.HelmRelease) bool {
			return hr.Status.History.Latest().Version == 2 && isReady(hr)
		})
		upgrade.Add(time.Since(start), suiteEnv.requests.Since(mark, ns))
	}
	install.Report(b, "install")
	noop.Report(b, "noop")
	upgrade.Report(b, "upgrade")
}

// newTally counts the controller's requests as Helm storage (release Secrets), dry runs,
// status patches and other object requests.
func newTally() *requestlog.Tally {
	return &requestlog.Tally{Categories: []string{"storage", "dryruns", "status-patches", "other"}, Category: func(r requestlog.Request) string {
		switch {
		case strings.Contains(r.Path, "/secrets"):
			return "storage"
		case strings.Contains(r.Query, "dryRun"):
			return "dryruns"
		case r.Method == "PATCH" && strings.HasSuffix(r.Path, "/status"):
			return "status-patches"
		}
		return "other"
	}}
}
