package controller

import (
	"strings"
	"testing"
	"time"

	v2 "gotk.dev/helm-controller/api/v2"
)

// BenchmarkPodinfoRelease measures what one HelmRelease of podinfo costs against a real API
// server, in three scenarios: the install (with health verification of its objects), a
// no-op re-reconcile with drift detection enabled, and an upgrade to new values. It reports
// wall time (from the trigger to Ready at the new state) and the API requests the
// controller sent, by kind. Run with `make bench`.
func BenchmarkPodinfoRelease(b *testing.B) {
	drift := func(hr *v2.HelmRelease) { hr.Spec.DriftDetection = &v2.DriftDetection{Mode: v2.DriftDetectionEnabled} }
	var install, noop, upgrade scenario
	for i := 0; i < b.N; i++ {
		ns := newNamespace(b)
		helmChartSource(b, ns, "podinfo", chartOf(b, "podinfo"))

		mark := suiteEnv.requests.mark()
		start := time.Now()
		newHR(b, ns, "podinfo", "podinfo", drift, withValues("replicaCount: 1"))
		waitReady(b, ns, "podinfo", time.Minute)
		install.add(time.Since(start), suiteEnv.requests.since(mark, ns))
		time.Sleep(300 * time.Millisecond) // let late status writes land before the next mark

		mark = suiteEnv.requests.mark()
		start = time.Now()
		token := annotate(b, ns, "podinfo")
		waitFor(b, ns, "podinfo", 20*time.Second, "handled", func(hr *v2.HelmRelease) bool { return hr.Status.LastHandledReconcileAt == token })
		noop.add(time.Since(start), suiteEnv.requests.since(mark, ns))
		time.Sleep(300 * time.Millisecond)

		mark = suiteEnv.requests.mark()
		start = time.Now()
		updateHR(b, ns, "podinfo", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("replicaCount: 2") })
		waitFor(b, ns, "podinfo", time.Minute, "upgraded", func(hr *v2.HelmRelease) bool {
			return hr.Status.History.Latest().Version == 2 && isReady(hr)
		})
		upgrade.add(time.Since(start), suiteEnv.requests.since(mark, ns))
	}
	install.report(b, "install")
	noop.report(b, "noop")
	upgrade.report(b, "upgrade")
}

// scenario accumulates one scenario's measurements over the benchmark's iterations.
type scenario struct {
	n                                       int
	elapsed                                 time.Duration
	requests, storage, objects, status, dry int
}

func (s *scenario) add(d time.Duration, reqs []request) {
	s.n++
	s.elapsed += d
	for _, r := range reqs {
		// Only the controller's own requests: the benchmark's setup (the HelmRelease and its
		// changes) goes through a separate client.
		s.requests++
		switch {
		case strings.Contains(r.Path, "/secrets"):
			s.storage++
		case strings.Contains(r.Query, "dryRun"):
			s.dry++
		case r.Method == "PATCH" && strings.HasSuffix(r.Path, "/status"):
			s.status++
		default:
			s.objects++
		}
	}
}

func (s *scenario) report(b *testing.B, name string) {
	if s.n == 0 {
		return
	}
	n := float64(s.n)
	b.ReportMetric(float64(s.elapsed.Milliseconds())/n, name+"-ms")
	b.ReportMetric(float64(s.requests)/n, name+"-requests")
	b.ReportMetric(float64(s.storage)/n, name+"-storage")
	b.ReportMetric(float64(s.dry)/n, name+"-dryruns")
	b.ReportMetric(float64(s.status)/n, name+"-status-patches")
	b.ReportMetric(float64(s.objects)/n, name+"-other")
}
