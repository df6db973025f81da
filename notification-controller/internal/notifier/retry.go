package notifier

import (
	"context"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// RetryPolicy bounds WithRetry: at most Attempts deliveries, waiting Backoff, then twice as
// long each time, never more than MaxBackoff.
type RetryPolicy struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// DefaultRetryPolicy is three attempts over about three seconds.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 3, Backoff: time.Second, MaxBackoff: 10 * time.Second}
}

// WithRetry retries n's transient failures (network errors, 5xx answers, SDK errors) and
// returns rejections (4xx, configuration errors) at once. Context cancellation stops it.
func WithRetry(n Notifier, p RetryPolicy) Notifier {
	if p.Attempts < 1 {
		p.Attempts = 1
	}
	return &retrying{next: n, policy: p}
}

type retrying struct {
	next   Notifier
	policy RetryPolicy
}

func (r *retrying) Post(ctx context.Context, ev eventv1.Event) error {
	wait := r.policy.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		err = r.next.Post(ctx, ev)
		if err == nil || attempt >= r.policy.Attempts || !IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		if wait *= 2; r.policy.MaxBackoff > 0 && wait > r.policy.MaxBackoff {
			wait = r.policy.MaxBackoff
		}
	}
}

// Close closes the wrapped notifier when it holds a connection.
func (r *retrying) Close() error {
	if c, ok := r.next.(Closer); ok {
		return c.Close()
	}
	return nil
}
