// Package alertsink is a central alerting endpoint for notification-controllers that
// forward every event through a generic-hmac Provider: it accepts an event only when its
// X-Signature is the HMAC-SHA256 of the body under one of the senders' keys, and keeps what
// it accepted with the sender it came from.
//
// Each tenant gets its own key, because a tenant can read the Provider Secret in its own
// namespace: with one shared key, any tenant could sign events that claim to come from the
// platform or another tenant. A tenant's key is accepted only for events whose "tenant"
// metadata names that tenant; the platform's key may speak for anyone.
package alertsink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// TenantKey is the event metadata key a tenant's events must carry, naming the tenant.
const TenantKey = "tenant"

// Options configure a Sink.
type Options struct {
	// Platform is the platform's sender name (its key may send any event). Required.
	Platform string
	// Tenants are the tenants' sender names; each gets its own key.
	Tenants []string
	// Seed, when set, derives every sender's key from it (HMAC-SHA256 of the sender name),
	// so a restarted sink accepts the keys already committed to a repository; without it
	// the keys are random.
	Seed string
	// OnAccept, when set, is called with every accepted event (outside the sink's lock).
	OnAccept func(Received)
}

// Received is one accepted event and who signed it.
type Received struct {
	Sender string
	Event  eventv1.Event
}

// Sink is a running endpoint on 127.0.0.1. Its methods are safe for concurrent use.
type Sink struct {
	// URL is the address to give the Providers (spec.address).
	URL string

	opts Options
	keys map[string]string // sender -> hex key
	srv  *httptest.Server

	mu      sync.Mutex
	events  []Received
	refused int
	changed chan struct{} // closed and replaced on every accepted event
}

// Start gives every sender its key and serves.
func Start(opts Options) (*Sink, error) {
	if opts.Platform == "" {
		return nil, errors.New("alertsink: Options.Platform is required")
	}
	s := &Sink{opts: opts, keys: map[string]string{}, changed: make(chan struct{})}
	for _, sender := range append([]string{opts.Platform}, opts.Tenants...) {
		key := make([]byte, 16)
		if opts.Seed != "" {
			mac := hmac.New(sha256.New, []byte(opts.Seed))
			mac.Write([]byte(sender))
			copy(key, mac.Sum(nil))
		} else if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		s.keys[sender] = hex.EncodeToString(key)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/alerts"
	return s, nil
}

// Key is the HMAC key of sender (the token of its Provider Secret); empty for an unknown one.
func (s *Sink) Key(sender string) string { return s.keys[sender] }

// Close stops serving.
func (s *Sink) Close() { s.srv.Close() }

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "POST an event", http.StatusBadRequest)
		return
	}
	sender := s.signer(body, r.Header.Get("X-Signature"))
	if sender == "" {
		s.refuse(w, http.StatusUnauthorized, "bad signature")
		return
	}
	var ev eventv1.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	if sender != s.opts.Platform && ev.Metadata[TenantKey] != sender {
		s.refuse(w, http.StatusForbidden, "tenant "+sender+"'s key may only send its own events")
		return
	}
	rec := Received{Sender: sender, Event: ev}
	s.mu.Lock()
	s.events = append(s.events, rec)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if s.opts.OnAccept != nil {
		s.opts.OnAccept(rec)
	}
	w.WriteHeader(http.StatusAccepted)
}

// signer is the sender whose key signed body, or "".
func (s *Sink) signer(body []byte, signature string) string {
	for sender, key := range s.keys {
		if hmac.Equal([]byte(signature), []byte(Signature(key, body))) {
			return sender
		}
	}
	return ""
}

// Signature is the X-Signature a generic-hmac Provider sends with body:
// "sha256=<hex HMAC-SHA256 of body under key>".
func Signature(key string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Post sends ev to url signed with key, as a generic-hmac Provider does, and returns the
// status code (for tests posing as a sender).
func Post(ctx context.Context, url, key string, ev eventv1.Event) (int, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Signature", Signature(key, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (s *Sink) refuse(w http.ResponseWriter, code int, msg string) {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
	http.Error(w, msg, code)
}

// Find returns the first accepted event match accepts, and a channel closed on the next
// accepted event (to wait on when there is none yet).
func (s *Sink) Find(match func(Received) bool) (*Received, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.events {
		if match(s.events[i]) {
			rec := s.events[i]
			return &rec, nil
		}
	}
	return nil, s.changed
}

// Events lists what was accepted so far, in order.
func (s *Sink) Events() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.events...)
}

// Refusals counts the posts refused for a bad signature or a tenant speaking for another.
func (s *Sink) Refusals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// KeyPlaceholders maps placeholders of the alerting keys in a repository's files to the
// sink's keys: base (e.g. "__ALERTS_HMAC_KEY__") to the platform's, and base with the
// tenant's name in capitals before its closing "__" (e.g. "__ALERTS_HMAC_KEY_TEAM_A__") to
// that tenant's.
func (s *Sink) KeyPlaceholders(base string) map[string]string {
	marks := map[string]string{base: s.keys[s.opts.Platform]}
	for _, tenant := range s.opts.Tenants {
		mark := strings.TrimSuffix(base, "__") + "_" + strings.ToUpper(strings.ReplaceAll(tenant, "-", "_")) + "__"
		marks[mark] = s.keys[tenant]
	}
	return marks
}
