package release

import (
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/drift"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/helm-controller/internal/testchart"
)

var debugRequests = os.Getenv("DEBUG_REQUESTS") != ""

// countingTransport counts the requests sent to the API server.
type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count.Add(1)
	if debugRequests {
		println(r.Method, r.URL.Path)
	}
	return c.next.RoundTrip(r)
}

// TestRequestsPerReconcile bounds the API requests of reconciling an in-sync release:
// one list of the release records, plus a GET and a dry-run apply per manifest object
// with drift detection.
func TestRequestsPerReconcile(t *testing.T) {
	needCluster(t)
	var count atomic.Int64
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, count: &count} }
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "counted")
	f.runner.Factory = kube.NewFactory(cfg, f.ns, f.ns, kube.FactoryOptions{Persistent: true})
	f.runner.Drift = drift.NewDetector(c, kube.FieldManager())
	chrt := testchart.Chart(t, "widgets")

	count.Store(0)
	f.expect(chrt, good, []Action{Install}, nil)
	t.Logf("install (cold discovery): %d requests", count.Load())

	count.Store(0)
	f.expect(chrt, good, nil, nil)
	if n := count.Load(); n > 1 {
		t.Errorf("in-sync reconcile without drift detection: %d requests, want 1", n)
	}

	f.obj.Spec.DriftDetection = &v2.DriftDetection{Mode: v2.DriftDetectionEnabled}
	f.expect(chrt, good, nil, nil) // warms the client's REST mapper
	count.Store(0)
	f.expect(chrt, good, nil, nil)
	objects := 3 // ConfigMap, Deployment, Widget (the hook is not in the manifest)
	if n := count.Load(); n > int64(1+2*objects) {
		t.Errorf("in-sync reconcile with drift detection: %d requests, want at most %d", n, 1+2*objects)
	} else {
		t.Logf("in-sync reconcile with drift detection: %d requests", n)
	}

	count.Store(0)
	f.expect(chrt, map[string]interface{}{"size": 2}, []Action{Upgrade}, nil)
	t.Logf("upgrade (warm) with drift detection after it: %d requests", count.Load())
}
