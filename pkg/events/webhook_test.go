package events

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/testkind"
)

func TestWebhookRetries(t *testing.T) {
	for _, tc := range []struct {
		name       string
		script     []int
		wantStatus []int // statuses of the requests for the first event
	}{
		{name: "500 then 202", script: []int{500}, wantStatus: []int{500, 202}},
		{name: "502 503 then 202", script: []int{502, 503}, wantStatus: []int{502, 503, 202}},
		{name: "429 not retried", script: []int{429}, wantStatus: []int{429}},
		{name: "400 not retried", script: []int{400}, wantStatus: []int{400}},
		{name: "202", wantStatus: []int{202}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := eventsink.New(t, tc.script...)
			r := newRecorder(t, rc.URL, true)
			obj := newObject(t)
			r.Event(obj, SeverityTrace, "First", "first", nil)
			// One worker delivers in order: when the second event arrives, the first one's
			// retries are over.
			r.Event(obj, SeverityTrace, "Second", "second", nil)
			waitFor(t, 10*time.Second, "the second event", func() bool {
				got := rc.Received()
				return len(got) > 0 && got[len(got)-1].Event.Reason == "Second"
			})
			time.Sleep(300 * time.Millisecond) // a stray retry would show up by now
			got := rc.Received()
			var statuses []int
			for _, req := range got[:len(got)-1] {
				if req.Event.Reason != "First" {
					t.Errorf("unexpected request for %s", req.Event.Reason)
				}
				statuses = append(statuses, req.Status)
			}
			if fmt.Sprint(statuses) != fmt.Sprint(tc.wantStatus) {
				t.Errorf("requests for the first event answered %v, want %v", statuses, tc.wantStatus)
			}
			if last := got[len(got)-1]; last.Status != 202 {
				t.Errorf("second event answered %d", last.Status)
			}
		})
	}
}

func TestWebhookRetriesUntilReceiverIsUp(t *testing.T) {
	addr := closedAddr(t) // nothing listens there until the receiver starts below

	r := newRecorder(t, "http://"+addr+"/", true)
	obj := newObject(t)
	r.Event(obj, SeverityInfo, "NewArtifact", "delivered late", nil)
	time.Sleep(300 * time.Millisecond) // the first attempts are refused

	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	rc := eventsink.Serve(l)
	t.Cleanup(rc.Close)

	waitFor(t, 10*time.Second, "the event after the receiver came up", func() bool { return len(rc.Received()) == 1 })
	if got := rc.Received()[0].Event; got.Reason != "NewArtifact" || got.Message != "delivered late" {
		t.Errorf("received %+v", got)
	}
}

func TestWebhookFullQueueDrops(t *testing.T) {
	rc := eventsink.New(t)
	r := newRecorder(t, rc.URL, false) // not started: nothing drains the queue yet
	obj := newObject(t)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range queueSize + 100 {
			r.Event(obj, SeverityTrace, "Progressing", fmt.Sprintf("event %d", i), nil)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Event blocked on a full queue")
	}

	startRecorder(t, r)
	waitFor(t, 20*time.Second, "the queued events", func() bool { return len(rc.Received()) >= queueSize })
	time.Sleep(300 * time.Millisecond)
	got := rc.Received()
	if len(got) != queueSize {
		t.Fatalf("delivered %d events, want the %d that fit the queue", len(got), queueSize)
	}
	if first, last := got[0].Event.Message, got[len(got)-1].Event.Message; first != "event 0" || last != fmt.Sprintf("event %d", queueSize-1) {
		t.Errorf("delivered %q .. %q, want the oldest events kept", first, last)
	}
}

func TestWebhookDrainsOnShutdown(t *testing.T) {
	rc := eventsink.New(t)
	r := newRecorder(t, rc.URL, false)
	obj := newObject(t)
	for i := range 3 {
		r.Event(obj, SeverityTrace, "Progressing", fmt.Sprintf("event %d", i), nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- r.Start(ctx) }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Start = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return after its context ended")
	}
	if got := len(rc.Received()); got != 3 {
		t.Errorf("delivered %d events on shutdown, want 3", got)
	}
}

func TestWebhookGivesUpOnShutdown(t *testing.T) {
	// A receiver that always fails must not hold shutdown beyond the drain deadline.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	r := newRecorder(t, srv.URL, false)
	obj := newObject(t)
	r.Event(obj, SeverityTrace, "Progressing", "never delivered", nil)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = r.Start(ctx); close(stopped) }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case <-stopped:
		if d := time.Since(start); d > 6*time.Second {
			t.Errorf("shutdown took %s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return after its context ended")
	}
}

// TestWebhookKeepsCredentialsOutOfLogs checks that a password in --events-addr shows up in no
// error or log line, on every failure path.
func TestWebhookKeepsCredentialsOutOfLogs(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	for _, addr := range []string{
		"ftp://flux:" + secret + "@nc.flux-system/",
		"http://flux:" + secret + "@nc.flux-system:port/",
		"http://flux:" + secret + "@/",
	} {
		_, err := NewRecorder(env.Config, Options{Controller: "c", EventsAddr: addr, Scheme: env.Scheme})
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("NewRecorder(%q) = %v, want an error without the password", addr, err)
		}
	}

	for _, tc := range []struct {
		name   string
		status int // 0: nothing listens
	}{
		{"refused by receiver", http.StatusBadRequest},
		{"connection refused", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var addr string
			if tc.status == 0 {
				addr = closedAddr(t)
			} else {
				addr = strings.TrimSuffix(strings.TrimPrefix(eventsink.New(t, tc.status).URL, "http://"), "/")
			}
			var mu sync.Mutex
			var logs []string
			log := funcr.New(func(prefix, args string) {
				mu.Lock()
				defer mu.Unlock()
				logs = append(logs, args)
			}, funcr.Options{Verbosity: 10})
			r, err := NewRecorder(env.Config, Options{
				Controller: "c", EventsAddr: "http://flux:" + secret + "@" + addr + "/", Scheme: env.Scheme, Log: log,
			})
			if err != nil {
				t.Fatal(err)
			}
			startRecorder(t, r)
			r.Event(newObject(t), SeverityTrace, "Progressing", "message", nil)
			waitFor(t, 15*time.Second, "the delivery failure log", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(logs) > 0
			})
			mu.Lock()
			defer mu.Unlock()
			for _, l := range logs {
				if strings.Contains(l, secret) {
					t.Errorf("log line carries the password: %s", l)
				}
				if !strings.Contains(l, addr) {
					t.Errorf("log line does not name the receiver %s: %s", addr, l)
				}
			}
		})
	}
}

// closedAddr returns a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestWebhookBurstOfManyObjects: a burst about many objects, beyond what one queue holds,
// all reaches notification-controller; each object's events keep their order.
func TestWebhookBurstOfManyObjects(t *testing.T) {
	const objects, each = 1000, 3
	rc := eventsink.New(t)
	r := newRecorder(t, rc.URL, false) // not started: the burst must fit the queues
	ns := newObject(t).Namespace
	for i := range objects * each {
		obj := &testkind.TestObject{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i%objects), Namespace: ns}}
		r.Event(obj, SeverityTrace, "Progressing", fmt.Sprintf("event %d", i/objects), nil)
	}
	startRecorder(t, r)
	waitFor(t, 30*time.Second, "the burst", func() bool { return len(rc.Received()) >= objects*each })
	next := map[string]int{}
	for _, got := range rc.Received() {
		name := got.Event.InvolvedObject.Name
		if want := fmt.Sprintf("event %d", next[name]); got.Event.Message != want {
			t.Fatalf("%s: got %q, want %q: an object's events out of order", name, got.Event.Message, want)
		}
		next[name]++
	}
}
