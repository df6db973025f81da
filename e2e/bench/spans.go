package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"gotk.dev/e2e/framework"
	"gotk.dev/pkg/timeline"
)

// spanPoll is how often the collector reads each controller's /debug/reconciles: often enough
// that the ring (timeline.Size spans) never wraps between reads at a thousand reconciles a
// second, rarely enough to cost the controllers nothing measurable.
const spanPoll = 2 * time.Second

// spanCollector reads the reconcile spans of every running controller for the whole run
// (package timeline, served on each controller's metrics address), so the report can say
// where the time between a change and Ready went, object by object.
type spanCollector struct {
	env *framework.Env

	mu     sync.Mutex
	spans  []timeline.Span
	next   map[string]uint64 // by controller
	missed uint64
	errs   []string

	stop chan struct{}
	done chan struct{}
}

func startSpanCollector(env *framework.Env) *spanCollector {
	c := &spanCollector{env: env, next: map[string]uint64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(spanPoll)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.poll()
			}
		}
	}()
	return c
}

// Spans reads what is new and returns every span collected so far.
func (c *spanCollector) Spans() []timeline.Span {
	c.poll()
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]timeline.Span(nil), c.spans...)
}

// Stop ends the polling.
func (c *spanCollector) Stop() {
	close(c.stop)
	<-c.done
}

func (c *spanCollector) poll() {
	for _, name := range sortedKeys(c.env.Controllers) {
		p := c.env.Controllers[name]
		c.mu.Lock()
		since := c.next[name]
		c.mu.Unlock()
		page, err := readSpans(p.MetricsAddr, since)
		c.mu.Lock()
		if err != nil {
			if len(c.errs) < 5 {
				c.errs = append(c.errs, fmt.Sprintf("%s: %v", name, err))
			}
		} else {
			c.spans = append(c.spans, page.Spans...)
			c.next[name] = page.Next
			c.missed += page.Missed
		}
		c.mu.Unlock()
	}
}

func readSpans(addr string, since uint64) (timeline.Page, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://%s/debug/reconciles?since=%d", addr, since)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return timeline.Page{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return timeline.Page{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return timeline.Page{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var page timeline.Page
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return timeline.Page{}, fmt.Errorf("GET %s: %w", url, err)
	}
	return page, nil
}

// Missed is the number of spans the controllers' rings dropped before they were read, and
// the first read errors.
func (c *spanCollector) Missed() (uint64, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.missed, append([]string(nil), c.errs...)
}
