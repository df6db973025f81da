package intake

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultRateLimitInterval = 5 * time.Minute
	DefaultMaxTracked        = 100_000
)

// AcceptFunc takes an accepted event (metadata already cleaned up). It must not block for
// long (hand the event to a queue); an error answers 503 and forgets the event's key, so the
// emitter's retry is not taken for a duplicate.
type AcceptFunc func(ctx context.Context, ev *eventv1.Event) error

// Options configure the Handler.
type Options struct {
	// Accept receives every accepted event. Required.
	Accept AcceptFunc
	// MaxBodyBytes bounds a request body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// RateLimitInterval is --rate-limit-interval: an identical event within it is answered
	// 429 and dropped (DefaultRateLimitInterval when 0; negative disables).
	RateLimitInterval time.Duration
	// MaxTracked bounds the duplicate-suppression table (DefaultMaxTracked when 0).
	MaxTracked int
	// Registerer registers the metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Handler serves POST / with an Event body. Answers: 202 accepted, 400 invalid payload, 405
// wrong method, 413 body too large, 429 duplicate, 503 refused by Accept.
type Handler struct {
	accept   AcceptFunc
	maxBody  int64
	dedupe   *dedupe
	received *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHandler validates o and registers the metrics.
func NewHandler(o Options) (*Handler, error) {
	if o.Accept == nil {
		return nil, errors.New("intake: Options.Accept is required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.RateLimitInterval == 0 {
		o.RateLimitInterval = DefaultRateLimitInterval
	}
	if o.MaxTracked <= 0 {
		o.MaxTracked = DefaultMaxTracked
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Handler{
		accept:  o.Accept,
		maxBody: o.MaxBodyBytes,
		dedupe:  newDedupe(o.RateLimitInterval, o.MaxTracked, o.Now),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gotk_event_received_total",
			Help: "Events received by the event intake, by outcome (accepted, duplicate, invalid, refused).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gotk_event_http_request_duration_seconds",
			Help:    "Duration of event intake HTTP requests, by status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"code", "method"}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{h.received, h.duration} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code := h.serve(w, r)
	h.duration.WithLabelValues(strconv.Itoa(code), r.Method).Observe(time.Since(start).Seconds())
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST is accepted", http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed
	}
	ev, err := DecodeEvent(r.Body, h.maxBody)
	if err != nil {
		h.received.WithLabelValues("invalid").Inc()
		if errors.Is(err, errTooLarge) {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return http.StatusBadRequest
	}
	CleanupMetadata(ev)
	key := EventKey(ev)
	if h.dedupe.seen(key) {
		h.received.WithLabelValues("duplicate").Inc()
		http.Error(w, "duplicate event within the rate limit interval", http.StatusTooManyRequests)
		return http.StatusTooManyRequests
	}
	if err := h.accept(r.Context(), ev); err != nil {
		h.dedupe.forget(key)
		h.received.WithLabelValues("refused").Inc()
		http.Error(w, "event not accepted: "+err.Error(), http.StatusServiceUnavailable)
		return http.StatusServiceUnavailable
	}
	h.received.WithLabelValues("accepted").Inc()
	w.WriteHeader(http.StatusAccepted)
	return http.StatusAccepted
}
