package requestlog

import (
	"testing"
	"time"
)

// Tally accumulates one benchmark scenario over its iterations: the time each run took and
// the requests it sent, counted by category.
type Tally struct {
	// Categories are the names Category returns, in the order they are reported; a
	// category no request fell into is reported as zero.
	Categories []string
	// Category names a request's kind (e.g. "applies", "status-patches").
	Category func(Request) string

	runs     int
	elapsed  time.Duration
	requests int
	counts   map[string]int
	order    []string
}

// Add records one run.
func (t *Tally) Add(took time.Duration, reqs []Request) {
	if t.counts == nil {
		t.counts = map[string]int{}
		t.order = append(t.order, t.Categories...)
		for _, c := range t.Categories {
			t.counts[c] = 0
		}
	}
	t.runs++
	t.elapsed += took
	for _, r := range reqs {
		t.requests++
		c := t.Category(r)
		if _, seen := t.counts[c]; !seen {
			t.order = append(t.order, c)
		}
		t.counts[c]++
	}
}

// Report adds the per-run averages to b's results as <name>-ms, <name>-requests and
// <name>-<category>.
func (t *Tally) Report(b *testing.B, name string) {
	if t.runs == 0 {
		return
	}
	n := float64(t.runs)
	b.ReportMetric(float64(t.elapsed.Milliseconds())/n, name+"-ms")
	b.ReportMetric(float64(t.requests)/n, name+"-requests")
	for _, c := range t.order {
		b.ReportMetric(float64(t.counts[c])/n, name+"-"+c)
	}
}
