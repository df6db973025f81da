package framework

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
)

// APIRequests are request counters of the API server (apiserver_request_total), summed
// over response codes. They count every client: controllers, the control plane, kwok and
// the test itself (see Env.ClientRequests to subtract the latter).
type APIRequests struct {
	// ByVerb is keyed by the API server's verb: GET, LIST, WATCH, POST, PUT, PATCH, APPLY,
	// DELETE, ...
	ByVerb map[string]int64 `json:"byVerb"`
	// ByResource is keyed by "VERB resource[.group][/subresource]", e.g.
	// "PATCH ocirepositories.source.toolkit.fluxcd.io/status".
	ByResource map[string]int64 `json:"byResource"`
}

// Total is the sum over verbs.
func (a APIRequests) Total() int64 {
	var n int64
	for _, v := range a.ByVerb {
		n += v
	}
	return n
}

// Diff is after minus before (counters only grow; a key missing before counts from zero).
// Zero differences are left out.
func Diff(before, after APIRequests) APIRequests {
	return APIRequests{ByVerb: diffCounts(before.ByVerb, after.ByVerb), ByResource: diffCounts(before.ByResource, after.ByResource)}
}

func diffCounts(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// APIRequests scrapes the API server's /metrics with the admin client. The scrape itself is
// one GET that the next scrape will count.
func (e *Env) APIRequests(ctx context.Context) (APIRequests, error) {
	return ScrapeAPIRequests(ctx, e.Clientset)
}

// ScrapeAPIRequests scrapes the /metrics of the API server cs talks to (another cluster than
// the Env's: a spoke).
func ScrapeAPIRequests(ctx context.Context, cs kubernetes.Interface) (APIRequests, error) {
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return APIRequests{}, fmt.Errorf("scrape kube-apiserver /metrics: %w", err)
	}
	return parseAPIRequests(body)
}

func parseAPIRequests(body []byte) (APIRequests, error) {
	fams, err := parseMetrics(body)
	if err != nil {
		return APIRequests{}, fmt.Errorf("parse kube-apiserver /metrics: %w", err)
	}
	out := APIRequests{ByVerb: map[string]int64{}, ByResource: map[string]int64{}}
	fam, ok := fams["apiserver_request_total"]
	if !ok {
		return out, fmt.Errorf("kube-apiserver /metrics has no apiserver_request_total")
	}
	for _, m := range fam.GetMetric() {
		l := labels(m)
		n := int64(m.GetCounter().GetValue())
		out.ByVerb[l["verb"]] += n
		res := l["resource"]
		if g := l["group"]; g != "" {
			res += "." + g
		}
		if s := l["subresource"]; s != "" {
			res += "/" + s
		}
		if res == "" {
			res = "(non-resource)"
		}
		out.ByResource[l["verb"]+" "+res] += n
	}
	return out, nil
}

// ClientRequests scrapes the controller's own client-go counters (rest_client_requests_total
// on its metrics endpoint) summed by HTTP method: the requests this controller sent, which
// the API server's counters cannot attribute. They restart from zero with the process.
func (p *Process) ClientRequests(ctx context.Context) (map[string]int64, error) {
	fams, err := p.scrape(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, m := range fams["rest_client_requests_total"].GetMetric() {
		out[labels(m)["method"]] += int64(m.GetCounter().GetValue())
	}
	return out, nil
}

// CounterSum scrapes the controller's metrics and sums the counter family over the series
// whose labels include match (nil matches all), e.g. gotk_cache_events_total with
// event_type=cache_load. A family the controller does not export sums to zero.
func (p *Process) CounterSum(ctx context.Context, family string, match map[string]string) (float64, error) {
	fams, err := p.scrape(ctx)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, m := range fams[family].GetMetric() {
		l := labels(m)
		ok := true
		for k, v := range match {
			ok = ok && l[k] == v
		}
		if ok {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum, nil
}

// scrape reads the controller's /metrics.
func (p *Process) scrape(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := "http://" + p.MetricsAddr + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s metrics: %w", p.Name, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	fams, err := parseMetrics(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	return fams, nil
}

func parseMetrics(body []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(bytes.NewReader(body))
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// requestCounter counts the requests of the Env's own clients by HTTP method, so reports can
// separate the test's load from the controllers'.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int64
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.mu.Lock()
		c.counts[r.Method]++
		c.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ClientRequests are the requests the Env's clients (Client, Clientset, and clients built
// from Config) sent so far, by HTTP method.
func (e *Env) ClientRequests() map[string]int64 {
	e.requests.mu.Lock()
	defer e.requests.mu.Unlock()
	return maps.Clone(e.requests.counts)
}

// FormatCounts renders counts as "A=1 B=2" in key order, for logs.
func FormatCounts(counts map[string]int64) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, counts[k])
	}
	return b.String()
}
