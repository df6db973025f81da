// Package timeline keeps a record of a controller's recent reconciles: for each one, when the
// request became ready in the work queue, when a worker took it, how long each step and the
// status patch took, and how it ended. The manager serves it at /debug/reconciles on the
// metrics address (beside pprof), so a benchmark or an operator can see where the time between
// a change and Ready goes, per object, instead of guessing from histograms.
//
// The record is a ring of the most recent spans (Size), so it costs a bounded amount of memory
// whatever the number of objects; a reader that polls with ?since=<next> misses nothing as long
// as it polls before the ring wraps, and is told how many spans it missed when it does not.
package timeline

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Size is the number of spans a Recorder keeps.
const Size = 4096

// Span is one reconcile of one object.
type Span struct {
	// Seq numbers the spans of a process from 1, in the order they were recorded.
	Seq       uint64 `json:"seq"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Generation is the object's metadata.generation when the reconcile read it.
	Generation int64 `json:"generation,omitempty"`
	// Queued is when the request became ready in the work queue: the watch event, or the end
	// of a requeue delay. Zero when the queue did not record it.
	Queued time.Time `json:"queued,omitzero"`
	// Start is when a worker took the request; End is when the reconcile returned (after the
	// status patch).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Steps are the steps that ran, in order, with their durations.
	Steps []Step `json:"steps,omitempty"`
	// StatusPatchSeconds is how long the status patch took (0: nothing changed, no request).
	StatusPatchSeconds float64 `json:"statusPatchSeconds,omitempty"`
	// Outcome is how the reconcile ended: Ready, Progressing, Waiting, Failed, Stalled,
	// Suspended, Finalized, or Gone (the object no longer exists).
	Outcome string `json:"outcome"`
	// Reason is the Ready condition's reason of a reconcile that did not end Ready.
	Reason string `json:"reason,omitempty"`
	// RequeueAfterSeconds is the requeue delay the reconcile asked for.
	RequeueAfterSeconds float64 `json:"requeueAfterSeconds,omitempty"`
}

// Step is one step of a reconcile.
type Step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Outcomes of a Span.
const (
	Ready       = "Ready"
	Progressing = "Progressing"
	// Deferred ended without a status patch, to be requeued in moments (reconcile.Defer).
	Deferred  = "Deferred"
	Waiting   = "Waiting"
	Failed    = "Failed"
	Stalled   = "Stalled"
	Suspended = "Suspended"
	Finalized = "Finalized"
	Gone      = "Gone"
)

// Recorder keeps the last Size spans of a process and the queue times of its controllers'
// work queues (NewQueue). The zero value is not usable; use New. A nil *Recorder records
// nothing.
type Recorder struct {
	mu     sync.Mutex
	ring   []Span
	next   uint64 // Seq of the next span
	queues map[string]*queue
}

// New returns an empty recorder.
func New() *Recorder {
	return &Recorder{ring: make([]Span, Size), next: 1, queues: map[string]*queue{}}
}

// Record stores s (its Seq is assigned here).
func (r *Recorder) Record(s Span) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.Seq = r.next
	r.ring[r.next%Size] = s
	r.next++
}

// Page is what Since returns and the handler serves.
type Page struct {
	// Spans are the recorded spans with Seq >= since, oldest first.
	Spans []Span `json:"spans"`
	// Next is the since of the next call.
	Next uint64 `json:"next"`
	// Missed counts spans from since on that the ring no longer holds.
	Missed uint64 `json:"missed,omitempty"`
}

// Since returns the spans recorded from sequence number since on (1: all it holds).
func (r *Recorder) Since(since uint64) Page {
	r.mu.Lock()
	defer r.mu.Unlock()
	if since < 1 {
		since = 1
	}
	p := Page{Next: r.next}
	oldest := uint64(1)
	if r.next > Size {
		oldest = r.next - Size
	}
	if since < oldest {
		p.Missed = oldest - since
		since = oldest
	}
	for seq := since; seq < r.next; seq++ {
		p.Spans = append(p.Spans, r.ring[seq%Size])
	}
	return p
}

// Handler serves Since as JSON: GET /debug/reconciles?since=<seq>.
func (r *Recorder) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var since uint64
		if s := req.URL.Query().Get("since"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				http.Error(w, "since: want a sequence number", http.StatusBadRequest)
				return
			}
			since = v
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Since(since))
	})
}
