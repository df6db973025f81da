package controller

import (
	"strings"
	"testing"
	"time"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// TestRequestsOfNoOpReconcile counts the API requests of a reconcile that changes nothing,
// a design goal: one server-side apply per object (the API server finds each a no-op) and
// at most one status patch; no reads of the applied objects, no dry-runs, health checked
// from the apply responses. The one Event is upstream's "Reconciliation finished in X, next
// run in Y", recorded after every successful reconcile (Git commit-status alerts use it).
func TestRequestsOfNoOpReconcile(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"cm.yaml":     cmYAML("a", map[string]string{"k": "v"}) + "---\n" + cmYAML("b", nil),
		"sa.yaml":     "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n",
		"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: v\n",
	})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) { ks.Spec.Wait = true })
	waitReady(t, ns, "app", 30*time.Second)
	time.Sleep(500 * time.Millisecond) // let the first reconcile's event and status settle
	// Usually one reconcile so far, but a watch event (the source's status written after the
	// first apply) may have caused a second no-op one before the mark on a loaded machine.
	ready := waitReady(t, ns, "app", time.Second)
	if len(ready.Status.History) != 1 {
		t.Fatalf("history after the first reconcile = %+v", ready.Status.History)
	}
	before := ready.Status.History[0].TotalReconciliations

	mark := suiteEnv.requests.Mark()
	token := requestReconcile(t, ns, "app")
	ks := waitHandled(t, ns, "app", token, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // anything sent late would show now
	reqs := suiteEnv.requests.Since(mark, ns)

	applies, statusPatches, events := 0, 0, 0
	for _, r := range reqs {
		switch {
		case strings.Contains(r.Query, "dryRun"):
			t.Errorf("dry-run: %s", r)
		case r.Method == "PATCH" && strings.HasSuffix(r.Path, "/kustomizations/app/status"):
			statusPatches++
		case r.Method == "PATCH" && strings.Contains(r.Query, "fieldManager=kustomize-controller"):
			applies++
		case strings.HasSuffix(r.Path, "/events") || strings.Contains(r.Path, "/events/"):
			events++
		default:
			t.Errorf("unexpected request: %s", r)
		}
	}
	if applies != 4 || statusPatches > 1 || events != 1 {
		t.Errorf("%d applies, %d status patches and %d event requests, want 4, at most 1 and 1; requests:\n%v",
			applies, statusPatches, events, reqs)
	}
	if len(ks.Status.History) != 1 || ks.Status.History[0].TotalReconciliations != before+1 {
		t.Errorf("history = %+v, want %d reconciliations", ks.Status.History, before+1)
	}
}
