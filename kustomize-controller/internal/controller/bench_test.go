package controller

import (
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/requestlog"
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
	var first, noop, change = newTally(), newTally(), newTally()
	for i := 0; i < b.N; i++ {
		ns := newNamespace(b)
		src, _ := gitRepo(b, ns, "repo", files("v0"))

		mark := suiteEnv.requests.Mark()
		start := time.Now()
		newKustomization(b, ns, "app", src, "", func(ks *kustomizev1.Kustomization) { ks.Spec.Wait = true })
		waitReady(b, ns, "app", 30*time.Second)
		first.Add(time.Since(start), suiteEnv.requests.Since(mark, ns))
		time.Sleep(300 * time.Millisecond) // let late status writes land before the next mark

		mark = suiteEnv.requests.Mark()
		start = time.Now()
		token := requestReconcile(b, ns, "app")
		waitHandled(b, ns, "app", token, 20*time.Second)
		noop.Add(time.Since(start), suiteEnv.requests.Since(mark, ns))
		time.Sleep(300 * time.Millisecond)

		mark = suiteEnv.requests.Mark()
		start = time.Now()
		a := publish(b, src, files("v1"), nil)
		waitApplied(b, ns, "app", a.Revision, 30*time.Second)
		waitReady(b, ns, "app", 30*time.Second)
		change.Add(time.Since(start), suiteEnv.requests.Since(mark, ns))
	}
	first.Report(b, "first")
	noop.Report(b, "noop")
	change.Report(b, "change")
}

// newTally counts the controller's requests as applies, status patches and others.
func newTally() *requestlog.Tally {
	return &requestlog.Tally{Categories: []string{"applies", "status-patches", "other"}, Category: func(r requestlog.Request) string {
		switch {
		case r.Method == "PATCH" && strings.Contains(r.Query, "fieldManager=kustomize-controller"):
			return "applies"
		case r.Method == "PATCH" && strings.HasSuffix(r.Path, "/status"):
			return "status-patches"
		}
		return "other"
	}}
}
