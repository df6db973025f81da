package controller

import (
	"strings"
	"testing"
	"time"

	v2 "gotk.dev/helm-controller/api/v2"
)

// TestRequestsOfNoOpReconcile counts the API requests of a reconcile of a release in sync
// (a design goal): one list of the release's storage Secrets, nothing else of the release
// (no discovery, no reads of the released objects), no status write when nothing changed.
func TestRequestsOfNoOpReconcile(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets")
	waitReady(t, ns, "app", 60*time.Second)
	time.Sleep(500 * time.Millisecond) // let the first reconcile's events and status settle

	mark := suiteEnv.requests.Mark()
	token := annotate(t, ns, "app")
	waitFor(t, ns, "app", 20*time.Second, "request handled", func(hr *v2.HelmRelease) bool {
		return hr.Status.LastHandledReconcileAt == token
	})
	time.Sleep(500 * time.Millisecond) // anything sent late would show now
	var lists, statusPatches int
	for _, r := range suiteEnv.requests.Since(mark, ns) {
		switch {
		case r.Method == "GET" && strings.HasSuffix(r.Path, "/secrets") && strings.Contains(r.Query, "owner%3Dhelm"):
			lists++
		case r.Method == "PATCH" && strings.HasSuffix(r.Path, "/helmreleases/app/status"):
			statusPatches++
		case strings.HasSuffix(r.Path, "/events"):
		default:
			t.Errorf("unexpected request: %s", r)
		}
	}
	if lists != 1 || statusPatches > 1 {
		t.Errorf("%d storage lists and %d status patches, want 1 and at most 1", lists, statusPatches)
	}
}
