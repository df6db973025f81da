package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/go-logr/logr"
	"github.com/hashicorp/go-retryablehttp"
)

const (
	// queueSize bounds events waiting for delivery; a reconcile never blocks on a slow or
	// absent notification-controller, it drops (and logs) instead.
	queueSize   = 1024
	postRetries = 4
	// drainTimeout bounds the delivery of queued events on shutdown.
	drainTimeout = 5 * time.Second
)

// webhookSender POSTs events to notification-controller from background workers, one queue
// each (see writers); an object's events always go through the same one, in order.
type webhookSender struct {
	url string
	// logURL is url with any password masked, for logs.
	logURL string
	client *retryablehttp.Client
	queues []chan *eventv1.Event
	log    logr.Logger
}

func newWebhookSender(addr string, log logr.Logger) (*webhookSender, error) {
	u, err := url.Parse(addr)
	if err != nil {
		// url.Error repeats the whole address, credentials included: keep only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("--events-addr is not an http(s) URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--events-addr %q is not an http(s) URL", u.Redacted())
	}
	c := retryablehttp.NewClient()
	c.RetryMax = postRetries
	c.RetryWaitMin = 200 * time.Millisecond
	c.RetryWaitMax = 5 * time.Second
	c.HTTPClient.Timeout = 15 * time.Second
	c.Logger = nil
	c.CheckRetry = shouldRetry
	// After the last retry, return the response instead of an opaque "giving up" error.
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	s := &webhookSender{url: addr, logURL: u.Redacted(), client: c, log: log}
	for range writers {
		s.queues = append(s.queues, make(chan *eventv1.Event, queueSize))
	}
	return s, nil
}

// shouldRetry retries connection failures and server errors. 429 means notification-controller
// already has this event (it rate-limits duplicates), so it is done, not retried.
func shouldRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return true, nil
	}
	return resp.StatusCode >= 500, nil
}

func (s *webhookSender) enqueue(ev *eventv1.Event) {
	select {
	case s.queues[writerOf(ev.InvolvedObject.Namespace, ev.InvolvedObject.Name)] <- ev:
	default:
		s.log.Info("event queue full, dropping event for notification-controller",
			"reason", ev.Reason, "object", ev.InvolvedObject.Namespace+"/"+ev.InvolvedObject.Name)
	}
}

// run delivers queued events until ctx ends, then delivers what is left with a short deadline.
func (s *webhookSender) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, q := range s.queues {
		wg.Go(func() { s.deliver(ctx, q) })
	}
	wg.Wait()
}

// deliver is run for one queue.
func (s *webhookSender) deliver(ctx context.Context, queue chan *eventv1.Event) {
	for {
		select {
		case ev := <-queue:
			// select picks at random among ready cases: an event taken after ctx ended must
			// go out with the drain deadline, not fail at once on the cancelled ctx.
			if ctx.Err() != nil {
				s.drain(queue, ev)
				return
			}
			s.post(ctx, ev)
		case <-ctx.Done():
			s.drain(queue, nil)
			return
		}
	}
}

// drain delivers first (when set) and the queued events until the queue is empty or
// drainTimeout has passed, so a shutdown neither loses queued events nor hangs on an absent
// notification-controller.
func (s *webhookSender) drain(queue chan *eventv1.Event, first *eventv1.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if first != nil {
		s.post(ctx, first)
	}
	for ctx.Err() == nil {
		select {
		case ev := <-queue:
			s.post(ctx, ev)
		default:
			return
		}
	}
}

func (s *webhookSender) post(ctx context.Context, ev *eventv1.Event) {
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Error(err, "cannot encode event")
		return
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		s.log.Error(err, "cannot build event request")
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		s.log.Error(err, "cannot post event to notification-controller", "url", s.logURL, "reason", ev.Reason)
		return
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// A duplicate: notification-controller already forwarded this event.
	case resp.StatusCode >= 300:
		s.log.Error(fmt.Errorf("HTTP %s", resp.Status), "notification-controller refused event", "url", s.logURL, "reason", ev.Reason)
	}
}
