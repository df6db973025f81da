package framework

import (
	"context"
	"fmt"
	"time"
)

// Poll calls check with growing pauses (100ms, x1.5, at most 2s) until it reports done,
// returns an error, or timeout passes. On timeout the error carries what and the last
// reason check gave (a non-nil reason with done=false is "not yet, because ...").
func Poll(ctx context.Context, timeout time.Duration, what string, check func(ctx context.Context) (done bool, reason error, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pause := 100 * time.Millisecond
	var last error
	for {
		done, reason, err := check(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if done && err == nil {
			return nil
		}
		if reason != nil {
			last = reason
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("timed out after %s waiting for %s: %v", timeout, what, last)
			}
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(pause):
		}
		pause = min(pause*3/2, 2*time.Second)
	}
}
