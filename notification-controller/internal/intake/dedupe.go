package intake

import (
	"sync"
	"time"
)

// dedupe remembers event keys for an interval. It holds at most max keys: expired keys are
// swept when it fills, and when it is still full a new key is accepted untracked (letting a
// rare duplicate through beats dropping a distinct event).
type dedupe struct {
	mu       sync.Mutex
	interval time.Duration
	max      int
	until    map[string]time.Time
	now      func() time.Time
}

func newDedupe(interval time.Duration, max int, now func() time.Time) *dedupe {
	return &dedupe{interval: interval, max: max, until: map[string]time.Time{}, now: now}
}

// seen reports whether key was recorded within the interval, recording it otherwise.
func (d *dedupe) seen(key string) bool {
	if d.interval <= 0 {
		return false
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if exp, ok := d.until[key]; ok && now.Before(exp) {
		return true
	}
	if len(d.until) >= d.max {
		for k, exp := range d.until {
			if !now.Before(exp) {
				delete(d.until, k)
			}
		}
		if len(d.until) >= d.max {
			return false
		}
	}
	d.until[key] = now.Add(d.interval)
	return false
}

// forget removes key, so an event the callback refused can be sent again at once.
func (d *dedupe) forget(key string) {
	d.mu.Lock()
	delete(d.until, key)
	d.mu.Unlock()
}

func (d *dedupe) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.until)
}
