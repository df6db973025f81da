package journeys_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// centralReceiver is the central alerting endpoint every cluster's notification-controller
// forwards to (Provider type generic-hmac): an HTTP server on 127.0.0.1 that accepts an
// event only when its X-Signature is the HMAC-SHA256 of the body under the shared key, as a
// real receiver must, and keeps what it accepted. Started once, on first use, for the
// whole run (both clusters point at it); TestMain closes it.
type centralReceiver struct {
	URL string
	// Key is the shared HMAC key (the Providers' Secret token).
	Key string

	srv     *httptest.Server
	mu      sync.Mutex
	events  []eventv1.Event
	refused int
	changed chan struct{} // closed and replaced on every accepted event
}

var (
	central     *centralReceiver
	centralOnce sync.Once
)

// centralAlerts returns the central receiver, starting it on first use.
func centralAlerts() *centralReceiver {
	centralOnce.Do(func() {
		key := make([]byte, 16)
		_, _ = rand.Read(key)
		c := &centralReceiver{Key: hex.EncodeToString(key), changed: make(chan struct{})}
		c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
		c.URL = c.srv.URL + "/alerts"
		central = c
	})
	return central
}

func (c *centralReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "POST an event", http.StatusBadRequest)
		return
	}
	mac := hmac.New(sha256.New, []byte(c.Key))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.Header.Get("X-Signature")), []byte(want)) {
		c.mu.Lock()
		c.refused++
		c.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev eventv1.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.events = append(c.events, ev)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// find returns the first accepted event match accepts, and a channel closed on the next
// accepted event (to wait on when there is none yet).
func (c *centralReceiver) find(match func(eventv1.Event) bool) (*eventv1.Event, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.events {
		if match(c.events[i]) {
			ev := c.events[i]
			return &ev, nil
		}
	}
	return nil, c.changed
}

// summary lists what arrived, for failure messages.
func (c *centralReceiver) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, ev := range c.events {
		o := ev.InvolvedObject
		b.WriteString("\n  " + ev.Metadata["cluster"] + " " + o.Kind + "/" + o.Namespace + "/" + o.Name + " " + ev.Severity + " " + ev.Reason)
	}
	return b.String()
}

// refusals is how many posts had no valid signature.
func (c *centralReceiver) refusals() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused
}

func (c *centralReceiver) close() {
	if c != nil {
		c.srv.Close()
	}
}
