package controller

import (
	"strings"
	"testing"
	"time"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// BenchmarkKustomizationOfFourObjects measures what one Kustomization of 4 objects costs
// against a real API server, in three scenarios: the first apply, a no-op re-reconcile and a
// one-object change. It reports wall time (from the trigger to Ready at the new state) and
// the API requests the controller sent, per scenario. Run with `make bench`.
func BenchmarkKustomizationOfFourObjects(b *testing.B) {
	files := func(value string) map[string]string {
		return map[string]string{
			"cm.yaml":     cmYAML("a", map[string]string{"k": value}) + "---\n" + cmYAML("b", nil),
			"sa.yaml":     "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n",
			"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: v\n",
		}
	}
	var first, noop, change scenario
	for i := 0; i < b.N; i++ {
		ns := newNamespace(b)
		src, _ := gitRepo(b, ns, "repo", files("v0"))

		mark := suiteEnv.requests.mark()
		start := time.Now()
		newKustomization(b, ns, "app", src, "", func(ks *kustomizev1.Kustomization) { ks.Spec.Wait = true })
		waitReady(b, ns, "app", 30*time.Second)
		first.add(time.Since(start), suiteEnv.requests.since(mark, ns))
		time.Sleep(300 * time.Millisecond) // let late status writes land before the next mark

		mark = suiteEnv.requests.mark()
		start = time.Now()
		token := requestReconcile(b, ns, "app")
		waitHandled(b, ns, "app", token, 20*time.Second)
		noop.add(time.Since(start), suiteEnv.requests.since(mark, ns))
		time.Sleep(300 * time.Millisecond)

		mark = suiteEnv.requests.mark()
		start = time.Now()
		a := publish(b, src, files("v1"), nil)
		waitApplied(b, ns, "app", a.Revision, 30*time.Second)
		waitReady(b, ns, "app", 30*time.Second)
		change.add(time.Since(start), suiteEnv.requests.since(mark, ns))
	}
	first.report(b, "first")
	noop.report(b, "noop")
	change.report(b, "change")
}

// scenario accumulates one scenario's measurements over the benchmark's iterations.
type scenario struct {
	n        int
	elapsed  time.Duration
	requests int
	applies  int
	status   int
	other    int
}

func (s *scenario) add(d time.Duration, reqs []request) {
	s.n++
	s.elapsed += d
	for _, r := range reqs {
		// Only the controller's own requests: the benchmark's setup (publishing the artifact,
		// creating the Kustomization) goes through a separate client.
		s.requests++
		switch {
		case r.Method == "PATCH" && strings.Contains(r.Query, "fieldManager=kustomize-controller"):
			s.applies++
		case r.Method == "PATCH" && strings.HasSuffix(r.Path, "/status"):
			s.status++
		default:
			s.other++
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
	b.ReportMetric(float64(s.applies)/n, name+"-applies")
	b.ReportMetric(float64(s.status)/n, name+"-status-patches")
	b.ReportMetric(float64(s.other)/n, name+"-other")
}
