package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gotk.dev/e2e/framework"
)

// steadyBucket is the resolution of the steady state's request and reconcile series.
const steadyBucket = 10 * time.Second

// SteadyResult is the steady state: every object Ready, nothing changing, measured over
// Window with every object's spec.interval at Interval, so each object's periodic reconcile
// (a tag check per OCIRepository; fetch, build, dry-run apply and health per Kustomization)
// falls in the window about once. The series show how --interval-jitter-percentage spreads
// that work.
type SteadyResult struct {
	WindowSeconds   float64 `json:"windowSeconds"`
	IntervalSeconds float64 `json:"intervalSeconds"`
	// CPUSeconds is each controller's CPU time in the window; CPUPercent the same as a
	// percentage of one core.
	CPUSeconds map[string]float64 `json:"cpuSeconds"`
	CPUPercent map[string]float64 `json:"cpuPercent"`
	// APIRequests are the API server's requests in the window (all clients), and
	// ClientRequests each controller's own, by HTTP method.
	APIRequests    framework.APIRequests       `json:"apiRequests"`
	ClientRequests map[string]map[string]int64 `json:"clientRequests"`
	// Reconciles counts the reconciles in the window by kind and outcome ("Kind/Outcome").
	Reconciles map[string]int `json:"reconciles"`
	// RequestSeries and ReconcileSeries are the API requests (all clients) and reconciles
	// per steadyBucket through the window.
	RequestSeries   []int64 `json:"requestSeries"`
	ReconcileSeries []int   `json:"reconcileSeries"`
}

// measureSteady waits window with nothing changing and records what the controllers did.
func measureSteady(ctx context.Context, env *framework.Env, spans *spanCollector, window, interval time.Duration, logf func(string, ...any)) (*SteadyResult, error) {
	out := &SteadyResult{WindowSeconds: window.Seconds(), IntervalSeconds: interval.Seconds(),
		CPUSeconds: map[string]float64{}, CPUPercent: map[string]float64{}, ClientRequests: map[string]map[string]int64{}, Reconciles: map[string]int{}}
	logf("bench: steady state: measuring %s with nothing changing (spec.interval %s)", window, interval)
	cpuBefore := cpuSeconds(env)
	clientBefore := map[string]map[string]int64{}
	for name, p := range env.Controllers {
		if reqs, err := p.ClientRequests(ctx); err == nil {
			clientBefore[name] = reqs
		}
	}
	apiBefore, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	prev := apiBefore
	tick := time.NewTicker(steadyBucket)
	defer tick.Stop()
	for time.Since(start) < window {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		now, err := env.APIRequests(ctx)
		if err != nil {
			return nil, err
		}
		out.RequestSeries = append(out.RequestSeries, framework.Diff(prev, now).Total())
		prev = now
	}
	end := time.Now()
	elapsed := end.Sub(start).Seconds()
	out.WindowSeconds = elapsed
	out.APIRequests = framework.Diff(apiBefore, prev)
	cpuAfter := cpuSeconds(env)
	for name := range env.Controllers {
		out.CPUSeconds[name] = cpuAfter[name] - cpuBefore[name]
		out.CPUPercent[name] = 100 * out.CPUSeconds[name] / elapsed
		if reqs, err := env.Controllers[name].ClientRequests(ctx); err == nil {
			out.ClientRequests[name] = framework.Diff(framework.APIRequests{ByVerb: clientBefore[name]}, framework.APIRequests{ByVerb: reqs}).ByVerb
		}
	}
	out.ReconcileSeries = make([]int, len(out.RequestSeries))
	for _, s := range spans.Spans() {
		if s.Start.Before(start) || !s.Start.Before(end) {
			continue
		}
		out.Reconciles[s.Kind+"/"+s.Outcome]++
		if b := int(s.Start.Sub(start) / steadyBucket); b < len(out.ReconcileSeries) {
			out.ReconcileSeries[b]++
		}
	}
	return out, nil
}

// markdown renders the steady state.
func (s *SteadyResult) markdown(b *strings.Builder) {
	if s == nil {
		return
	}
	fmt.Fprintf(b, "\nSteady state: %s with nothing changing, spec.interval %s:\n\n", dur(s.WindowSeconds), dur(s.IntervalSeconds))
	b.WriteString("| Controller | CPU | % of one core | own API requests |\n|---|---|---|---|\n")
	var total float64
	for _, name := range sortedKeys(s.CPUSeconds) {
		total += s.CPUPercent[name]
		fmt.Fprintf(b, "| %s | %.1fs | %.1f%% | %s |\n", name, s.CPUSeconds[name], s.CPUPercent[name], framework.FormatCounts(s.ClientRequests[name]))
	}
	fmt.Fprintf(b, "| together | | %.1f%% | |\n", total)
	var recs []string
	for _, k := range sortedKeys(s.Reconciles) {
		recs = append(recs, fmt.Sprintf("%s=%d", k, s.Reconciles[k]))
	}
	fmt.Fprintf(b, "\nAPI requests in the window (all clients): %d (%s); per %s: mean %.0f, max %d. Reconciles: %s; per %s: mean %.1f, max %d.\n",
		s.APIRequests.Total(), framework.FormatCounts(s.APIRequests.ByVerb), steadyBucket, meanInt64(s.RequestSeries), maxOf(s.RequestSeries),
		strings.Join(recs, " "), steadyBucket, meanInt(s.ReconcileSeries), maxOf(s.ReconcileSeries))
}

func meanInt64(v []int64) float64 {
	if len(v) == 0 {
		return 0
	}
	var sum int64
	for _, x := range v {
		sum += x
	}
	return float64(sum) / float64(len(v))
}

func meanInt(v []int) float64 {
	if len(v) == 0 {
		return 0
	}
	sum := 0
	for _, x := range v {
		sum += x
	}
	return float64(sum) / float64(len(v))
}

func maxOf[T int | int64](v []T) T {
	var m T
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
