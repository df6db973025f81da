// Package eventsink is a stand-in for notification-controller's event endpoint: it records
// every event a controller POSTs to --events-addr, answers with scripted status codes, and
// can apply upstream notification-controller's metadata filtering to what it received.
package eventsink

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// Received is one request the sink answered.
type Received struct {
	// Status is what the sink answered.
	Status int
	Raw    []byte
	Event  eventv1.Event
	Header http.Header
}

// Sink records posted events. The zero value is not usable; call Start.
type Sink struct {
	// URL is the address to give a controller as --events-addr.
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	script   []int
	received []Received
}

// Start serves on 127.0.0.1. The first len(script) requests are answered with those status
// codes, later ones with 202 Accepted, as notification-controller answers. Close it when done.
func Start(script ...int) *Sink {
	s := &Sink{script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/"
	return s
}

// Serve is Start on a listener the caller opened (a receiver that comes up late).
func Serve(l net.Listener, script ...int) *Sink {
	s := &Sink{script: script}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL + "/"
	return s
}

// TB is the part of testing.TB New uses.
type TB interface{ Cleanup(func()) }

// New is Start with Close registered as a test cleanup.
func New(t TB, script ...int) *Sink {
	s := Start(script...)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Sink) Close() { s.srv.Close() }

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev eventv1.Event
	decodeErr := json.Unmarshal(body, &ev)
	s.mu.Lock()
	status := http.StatusAccepted
	if len(s.script) > 0 {
		status, s.script = s.script[0], s.script[1:]
	}
	switch {
	case r.Method != http.MethodPost:
		status = http.StatusMethodNotAllowed
	case decodeErr != nil:
		status = http.StatusBadRequest
	}
	s.received = append(s.received, Received{Status: status, Raw: body, Event: ev, Header: r.Header.Clone()})
	s.mu.Unlock()
	w.WriteHeader(status)
}

// Received returns every request so far, in arrival order.
func (s *Sink) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Events returns the events the sink accepted (answered 2xx), in arrival order.
func (s *Sink) Events() []eventv1.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []eventv1.Event
	for _, r := range s.received {
		if r.Status/100 == 2 {
			out = append(out, r.Event)
		}
	}
	return out
}

// Of returns the accepted events about the object kind ns/name with reason ("" for any).
func (s *Sink) Of(kind, ns, name, reason string) []eventv1.Event {
	var out []eventv1.Event
	for _, ev := range s.Events() {
		o := ev.InvolvedObject
		if o.Kind == kind && o.Namespace == ns && o.Name == name && (reason == "" || ev.Reason == reason) {
			out = append(out, ev)
		}
	}
	return out
}

// InNamespace returns the accepted events about objects in ns.
func (s *Sink) InNamespace(ns string) []eventv1.Event {
	var out []eventv1.Event
	for _, ev := range s.Events() {
		if ev.InvolvedObject.Namespace == ns {
			out = append(out, ev)
		}
	}
	return out
}

// UpstreamMetadata is the metadata upstream notification-controller hands to its providers
// for ev: only keys prefixed with the involved object's API group or with
// "event.toolkit.fluxcd.io/" are kept, without the prefix. Events whose metadata loses its
// revision here reach no Git commit-status provider.
func UpstreamMetadata(ev eventv1.Event) map[string]string {
	group := ev.InvolvedObject.GroupVersionKind().Group
	out := map[string]string{}
	for k, v := range ev.Metadata {
		if rest, ok := strings.CutPrefix(k, group+"/"); ok && group != "" {
			out[rest] = v
		} else if rest, ok := strings.CutPrefix(k, eventv1.Group+"/"); ok {
			out[rest] = v
		}
	}
	return out
}
