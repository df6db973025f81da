package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
)

func validEvent() eventv1.Event {
	return eventv1.Event{
		InvolvedObject: corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Name: "webapp", Namespace: "apps"},
		Severity:       "info", Message: "Reconciliation finished", Reason: "ReconciliationSucceeded",
		ReportingController: "kustomize-controller",
		Metadata:            map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"},
	}
}

func TestCleanupMetadata(t *testing.T) {
	tests := []struct {
		name       string
		apiVersion string
		in, want   map[string]string
	}{
		{
			name:       "group and event prefixes kept and stripped, the rest dropped",
			apiVersion: "kustomize.toolkit.fluxcd.io/v1",
			in: map[string]string{
				"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc",
				"kustomize.toolkit.fluxcd.io/token":    "t1",
				"event.toolkit.fluxcd.io/commit":       "abc",
				"event.toolkit.fluxcd.io/env":          "prod",
				"source.toolkit.fluxcd.io/revision":    "other group",
				"revision":                             "unprefixed",
				"kustomize.toolkit.fluxcd.io.evil/x":   "lookalike group",
				"helm.toolkit.fluxcd.io/revision":      "other group",
			},
			want: map[string]string{"revision": "main@sha1:abc", "token": "t1", "commit": "abc", "env": "prod"},
		},
		{
			name:       "checksum and digest of the group are dropped",
			apiVersion: "source.toolkit.fluxcd.io/v1",
			in: map[string]string{
				"source.toolkit.fluxcd.io/revision": "r", "source.toolkit.fluxcd.io/checksum": "c",
				"source.toolkit.fluxcd.io/digest": "sha256:d",
			},
			want: map[string]string{"revision": "r"},
		},
		{
			name:       "core group objects keep only event.toolkit keys",
			apiVersion: "v1",
			in:         map[string]string{"/revision": "x", "event.toolkit.fluxcd.io/summary": "s"},
			want:       map[string]string{"summary": "s"},
		},
		{name: "nothing left is nil", apiVersion: "helm.toolkit.fluxcd.io/v2", in: map[string]string{"foo": "bar"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := eventv1.Event{InvolvedObject: corev1.ObjectReference{APIVersion: tt.apiVersion, Kind: "X"}, Metadata: tt.in}
			CleanupMetadata(&ev)
			if !reflect.DeepEqual(ev.Metadata, tt.want) {
				t.Errorf("metadata = %v, want %v", ev.Metadata, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	mut := func(f func(*eventv1.Event)) eventv1.Event { e := validEvent(); f(&e); return e }
	tests := []struct {
		ev   eventv1.Event
		want string
	}{
		{validEvent(), ""},
		{mut(func(e *eventv1.Event) { e.InvolvedObject.Kind = "" }), "involvedObject.kind is required"},
		{mut(func(e *eventv1.Event) { e.InvolvedObject.Name = "" }), "involvedObject.name is required"},
		{mut(func(e *eventv1.Event) { e.InvolvedObject.Namespace = "" }), "involvedObject.namespace is required"},
		{mut(func(e *eventv1.Event) { e.Severity = "" }), "severity is required"},
		{mut(func(e *eventv1.Event) { e.Severity = "warning" }), `severity "warning" is not one of`},
		{mut(func(e *eventv1.Event) { e.Message = "" }), "message is required"},
		{mut(func(e *eventv1.Event) { e.Message = strings.Repeat("x", 39001) }), "message is longer than 39000"},
		{mut(func(e *eventv1.Event) { e.Reason = "" }), "reason is required"},
		{mut(func(e *eventv1.Event) { e.Severity = "trace" }), ""},
	}
	for _, tt := range tests {
		err := Validate(&tt.ev)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Validate = %v, want %q", err, tt.want)
		}
	}
}

func TestEventKey(t *testing.T) {
	base := validEvent()
	CleanupMetadata(&base)
	k := EventKey(&base)
	for name, f := range map[string]func(*eventv1.Event){
		"name":      func(e *eventv1.Event) { e.InvolvedObject.Name = "other" },
		"namespace": func(e *eventv1.Event) { e.InvolvedObject.Namespace = "other" },
		"kind":      func(e *eventv1.Event) { e.InvolvedObject.Kind = "HelmRelease" },
		"message":   func(e *eventv1.Event) { e.Message = "other" },
		"reason":    func(e *eventv1.Event) { e.Reason = "Other" },
		"revision":  func(e *eventv1.Event) { e.Metadata = map[string]string{"revision": "main@sha1:fff"} },
		"token":     func(e *eventv1.Event) { e.Metadata["token"] = "gen-2" },
	} {
		e := base
		e.Metadata = map[string]string{"revision": base.Metadata["revision"]}
		f(&e)
		if EventKey(&e) == k {
			t.Errorf("changing the %s kept the key", name)
		}
	}
	same := base
	same.Severity, same.ReportingInstance = "error", "other-pod"
	same.Metadata = map[string]string{"revision": base.Metadata["revision"], "summary": "irrelevant"}
	if EventKey(&same) != k {
		t.Error("fields outside the key changed it")
	}
}

type sink struct {
	mu     sync.Mutex
	events []*eventv1.Event
}

func (s *sink) accept(_ context.Context, ev *eventv1.Event) error {
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.mu.Unlock()
	return nil
}

func send(t *testing.T, url string, body []byte) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestHandler(t *testing.T) {
	s := &sink{}
	reg := prometheus.NewRegistry()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	h, err := NewHandler(Options{Accept: s.accept, Registerer: reg, MaxBodyBytes: 64 << 10, RateLimitInterval: time.Minute,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, _ := json.Marshal(validEvent())

	expectCode := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: status %d, want %d", what, got, want)
		}
	}
	expectCode("first", send(t, srv.URL, body), http.StatusAccepted)
	expectCode("duplicate", send(t, srv.URL, body), http.StatusTooManyRequests)
	clock.Add(int64(61 * time.Second))
	expectCode("after the interval", send(t, srv.URL, body), http.StatusAccepted)
	expectCode("invalid JSON", send(t, srv.URL, []byte("{")), http.StatusBadRequest)
	expectCode("missing fields", send(t, srv.URL, []byte(`{"message":"x"}`)), http.StatusBadRequest)
	big, _ := json.Marshal(eventv1.Event{Message: strings.Repeat("x", 70<<10)})
	expectCode("too large", send(t, srv.URL, big), http.StatusRequestEntityTooLarge)
	resp, _ := http.Get(srv.URL)
	resp.Body.Close()
	expectCode("GET", resp.StatusCode, http.StatusMethodNotAllowed)

	if len(s.events) != 2 {
		t.Fatalf("accepted %d events, want 2", len(s.events))
	}
	if got := s.events[0].Metadata; !reflect.DeepEqual(got, map[string]string{"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"}) {
		t.Errorf("accepted metadata = %v", got)
	}
	if v := testutil.ToFloat64(h.received.WithLabelValues("duplicate")); v != 1 {
		t.Errorf("duplicate counter = %v", v)
	}
	if n, _ := testutil.GatherAndCount(reg, "gotk_event_http_request_duration_seconds"); n == 0 {
		t.Error("no request duration recorded")
	}
}

func TestHandlerRefusedEventIsNotADuplicate(t *testing.T) {
	fail := true
	h, _ := NewHandler(Options{Accept: func(context.Context, *eventv1.Event) error {
		if fail {
			return errors.New("queue full")
		}
		return nil
	}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, _ := json.Marshal(validEvent())
	if c := send(t, srv.URL, body); c != http.StatusServiceUnavailable {
		t.Fatalf("status %d", c)
	}
	fail = false
	if c := send(t, srv.URL, body); c != http.StatusAccepted {
		t.Fatalf("the retry of a refused event got %d", c)
	}
}

// TestBurst: 40 clients send 2,000 distinct events and each of them twice more; every distinct
// event is delivered exactly once, every repeat is answered 429, and the table stays bounded.
func TestBurst(t *testing.T) {
	s := &sink{}
	h, _ := NewHandler(Options{Accept: s.accept, MaxTracked: 10_000})
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 40}}

	const distinct, repeats, workers = 2000, 3, 40
	var accepted, duplicates, other atomic.Int32
	jobs := make(chan []byte)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range jobs {
				resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
				if err != nil {
					other.Add(1)
					continue
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusAccepted:
					accepted.Add(1)
				case http.StatusTooManyRequests:
					duplicates.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	for r := 0; r < repeats; r++ {
		for i := 0; i < distinct; i++ {
			ev := validEvent()
			ev.InvolvedObject.Name = fmt.Sprintf("app-%d", i)
			body, _ := json.Marshal(ev)
			jobs <- body
		}
	}
	close(jobs)
	wg.Wait()
	if accepted.Load() != distinct || duplicates.Load() != distinct*(repeats-1) || other.Load() != 0 {
		t.Fatalf("accepted %d, duplicates %d, other %d", accepted.Load(), duplicates.Load(), other.Load())
	}
	seen := map[string]bool{}
	for _, ev := range s.events {
		if seen[ev.InvolvedObject.Name] {
			t.Fatalf("%s delivered twice", ev.InvolvedObject.Name)
		}
		seen[ev.InvolvedObject.Name] = true
	}
	if len(seen) != distinct {
		t.Fatalf("delivered %d distinct events, want %d", len(seen), distinct)
	}
}

func TestDedupeIsBounded(t *testing.T) {
	now := time.Unix(0, 0)
	d := newDedupe(time.Minute, 3, func() time.Time { return now })
	for _, k := range []string{"a", "b", "c"} {
		d.seen(k)
	}
	if d.seen("d") || d.len() != 3 {
		t.Fatalf("full table: len %d", d.len())
	}
	if d.seen("d") {
		t.Error("an untracked key must not count as seen")
	}
	now = now.Add(2 * time.Minute)
	d.seen("e") // sweeps the expired ones
	if d.len() != 1 {
		t.Errorf("after expiry len = %d, want 1", d.len())
	}
}
