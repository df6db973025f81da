package notifier

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"sync"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	sentrygo "github.com/getsentry/sentry-go"
)

// sentry captures an error event for `error` severity, and a transaction with one span for
// `info`, through the Sentry SDK. The channel sets the environment; the metadata goes to
// `extra` (errors) or span tags (transactions).
type sentry struct {
	mu      sync.Mutex // one capture at a time, so the recorder below belongs to it
	client  *sentrygo.Client
	rec     *recordingTransport
	red     *redactor
	address string
}

// recordingTransport remembers the outcome of the last request: the SDK's synchronous
// transport logs delivery failures instead of returning them.
type recordingTransport struct {
	next   http.RoundTripper
	status int
	err    error
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	r.err = err
	if resp != nil {
		r.status = resp.StatusCode
	}
	return resp, err
}

func newSentry(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address (the DSN): %v", err)
	}
	hc, err := newHTTPClient(o)
	if err != nil {
		return nil, err
	}
	rec := &recordingTransport{next: hc.Transport}
	hc.Transport = rec
	sync := sentrygo.NewHTTPSyncTransport()
	sync.Timeout = hc.Timeout
	client, err := sentrygo.NewClient(sentrygo.ClientOptions{
		Dsn:              o.Address,
		Environment:      o.Channel,
		HTTPClient:       hc,
		Transport:        sync,
		EnableTracing:    true,
		TracesSampleRate: 1,
	})
	if err != nil {
		return nil, permanent("the DSN is invalid")
	}
	return &sentry{client: client, rec: rec, red: newRedactor(o), address: o.Address}, nil
}

func (s *sentry) Post(ctx context.Context, ev eventv1.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ts := ev.Timestamp.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	e := sentrygo.NewEvent()
	e.Timestamp = ts
	e.ServerName = ev.ReportingController
	e.Tags = map[string]string{"kind": ev.InvolvedObject.Kind, "name": ev.InvolvedObject.Name,
		"namespace": ev.InvolvedObject.Namespace, "reason": ev.Reason}
	if isError(&ev) {
		e.Level = sentrygo.LevelError
		e.Message = ev.Message
		// The SDK dropped the `extra` attribute: metadata goes into a context of its own,
		// shown alongside the event like extra data was.
		extra := sentrygo.Context{}
		for k, v := range ev.Metadata {
			extra[k] = v
		}
		e.Contexts = map[string]sentrygo.Context{"metadata": extra}
	} else {
		// A transaction of one span: Sentry's way to record a successful operation.
		e.Type = "transaction"
		e.Level = sentrygo.LevelInfo
		e.Transaction = objectID(&ev)
		e.StartTime = ts
		var traceID sentrygo.TraceID
		var spanID, rootID sentrygo.SpanID
		_, _ = rand.Read(traceID[:])
		_, _ = rand.Read(spanID[:])
		_, _ = rand.Read(rootID[:])
		span := &sentrygo.Span{TraceID: traceID, SpanID: spanID, ParentSpanID: rootID,
			Op: ev.Reason, Description: ev.Message, StartTime: ts, EndTime: ts, Tags: map[string]string{}, Status: sentrygo.SpanStatusOK}
		for k, v := range ev.Metadata {
			span.Tags[k] = v
		}
		e.Spans = []*sentrygo.Span{span}
		e.Contexts = map[string]sentrygo.Context{"trace": {
			"trace_id": traceID.String(), "span_id": rootID.String(), "op": ev.Reason, "status": "ok"}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.status, s.rec.err = 0, nil
	s.client.CaptureEvent(e, nil, nil)
	switch {
	case s.rec.err != nil:
		return s.red.wrap(&DeliveryError{Retryable: true, msg: fmt.Sprintf("POST %s: %v", redactURL(s.address), s.rec.err)})
	case s.rec.status == 0:
		return permanent("the Sentry SDK did not send the event")
	case s.rec.status < 200 || s.rec.status > 299:
		return &DeliveryError{StatusCode: s.rec.status, Retryable: s.rec.status >= 500,
			msg: fmt.Sprintf("POST %s: %d %s", redactURL(s.address), s.rec.status, http.StatusText(s.rec.status))}
	}
	return nil
}
