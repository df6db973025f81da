package notifier

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const testSHA = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"

// captured is one request a test server received.
type captured struct {
	method, path, query string
	header              http.Header
	body                []byte
	user, pass          string
	basic               bool
}

// fakeAPI is an HTTP server on 127.0.0.1 recording every request and answering with
// respond (200 and "{}" when nil).
type fakeAPI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []captured
}

func newFakeAPI(t *testing.T, respond func(r *http.Request) (int, string)) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := captured{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: body}
		c.user, c.pass, c.basic = r.BasicAuth()
		f.mu.Lock()
		f.requests = append(f.requests, c)
		f.mu.Unlock()
		code, answer := http.StatusOK, "{}"
		if respond != nil {
			code, answer = respond(r)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) all() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.requests...)
}

// only returns the single request the server got, failing the test otherwise.
func (f *fakeAPI) only(t *testing.T) captured {
	t.Helper()
	reqs := f.all()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1: %+v", len(reqs), reqs)
	}
	return reqs[0]
}

func testEvent(severity string) eventv1.Event {
	return eventv1.Event{
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization",
			Name: "webapp", Namespace: "apps", UID: "7d0cdc51-ddcf-4743-b223-83ca5c699632",
		},
		Severity:            severity,
		Timestamp:           metav1.NewTime(time.Date(2022, 10, 28, 7, 26, 19, 0, time.UTC)),
		Message:             "service/apps/webapp validation error: spec.type: Unsupported value: Ingress",
		Reason:              "ReconciliationFailed",
		Metadata:            map[string]string{"revision": "main@sha1:" + testSHA, "summary": "prod cluster"},
		ReportingController: "kustomize-controller",
		ReportingInstance:   "kustomize-controller-7c7b47f5f-8bhrp",
	}
}

func mustNew(t *testing.T, o Options) Notifier {
	t.Helper()
	n, err := New(o)
	if err != nil {
		t.Fatalf("New(%s): %v", o.Type, err)
	}
	return n
}

func post(t *testing.T, n Notifier, ev eventv1.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.Post(ctx, ev); err != nil {
		t.Fatalf("Post: %v", err)
	}
}

// jsonBody decodes a JSON object body.
func jsonBody(t *testing.T, c captured) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, c.body)
	}
	return m
}

// dig walks a decoded JSON value along keys (strings) and indexes (ints).
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: %T is not an object", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: %v is not an array that long", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func expect(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
