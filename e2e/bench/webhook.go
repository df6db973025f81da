package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"gotk.dev/e2e/framework"
)

// WebhookResult is the push-to-applied benchmark, written as webhook.json and .md: for each
// push, the time from the commit to the ConfigMap it changes being in the cluster, with a
// signed webhook to a generic-hmac Receiver as the only trigger (the GitRepository and
// Kustomization poll hourly).
type WebhookResult struct {
	Pushes   int       `json:"pushes"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Host     Host      `json:"host"`
	// Seconds are the push-to-applied durations, in push order.
	Seconds []float64 `json:"seconds"`
	// P50, P90 and Max summarise Seconds.
	P50         float64             `json:"p50"`
	P90         float64             `json:"p90"`
	Max         float64             `json:"max"`
	Controllers []*ControllerResult `json:"controllers"`
	Deviations  []string            `json:"deviations"`
}

// RunWebhook measures push to applied pushes times, one push at a time, on env (which must
// run source-, kustomize- and notification-controller).
func RunWebhook(ctx context.Context, env *framework.Env, pushes int, logf func(string, ...any)) (*WebhookResult, error) {
	res := &WebhookResult{Pushes: pushes, Started: time.Now(), Deviations: framework.RecordedDeviations(),
		Host: Host{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}}
	res.Host.Name, _ = os.Hostname()
	app, err := env.NewWebhookApp(ctx, "webhook-bench", "app", "bench/webhook")
	if err != nil {
		return nil, err
	}
	for i := 1; i <= pushes; i++ {
		version := fmt.Sprint(i)
		start := time.Now()
		if _, err := app.Push(version); err != nil {
			return nil, err
		}
		if err := app.Hook(ctx); err != nil {
			return nil, err
		}
		if err := app.WaitApplied(ctx, version, time.Minute); err != nil {
			return nil, err
		}
		d := time.Since(start)
		res.Seconds = append(res.Seconds, d.Seconds())
		logf("bench: push %d/%d applied after %s", i, pushes, d.Round(time.Millisecond))
	}
	res.Finished = time.Now()
	sorted := slices.Sorted(slices.Values(res.Seconds))
	res.P50, res.P90, res.Max = percentile(sorted, 50), percentile(sorted, 90), sorted[len(sorted)-1]
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range env.Controllers {
			if !yield(n) {
				return
			}
		}
	}) {
		p := env.Controllers[name]
		res.Controllers = append(res.Controllers, &ControllerResult{Name: name, Bin: p.Bin, Args: p.Args,
			Concurrent: flagValue(p.Args, "concurrent"), KubeAPIQPS: flagValue(p.Args, "kube-api-qps"),
			KubeAPIBurst: flagValue(p.Args, "kube-api-burst"), PeakRSSBytes: p.PeakRSS(), CPUSeconds: p.CPUSeconds()})
	}
	return res, nil
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, p int) float64 {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// Markdown renders the summary, the settings and every duration.
func (r *WebhookResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Webhook benchmark: push to applied, %d pushes (%s)\n\n", r.Pushes, r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Host: %d CPUs, %s/%s, %s. One commit at a time; a generic-hmac Receiver's webhook is the only "+
		"trigger (intervals 1h); measured from the commit (made in-process on the Git server's repository), through the signed webhook, until the changed ConfigMap is seen through a watch.\n\n",
		r.Host.CPUs, r.Host.GOOS, r.Host.GOARCH, r.Host.GoVersion)
	b.WriteString("| Pushes | p50 | p90 | max |\n|---|---|---|---|\n")
	ms := func(s float64) string {
		return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
	}
	fmt.Fprintf(&b, "| %d | %s | %s | %s |\n\n", r.Pushes, ms(r.P50), ms(r.P90), ms(r.Max))
	b.WriteString("| Controller | Peak RSS | CPU | Arguments |\n|---|---|---|---|\n")
	for _, c := range r.Controllers {
		fmt.Fprintf(&b, "| %s | %s | %.1fs | `%s` |\n", c.Name, mebibytes(c.PeakRSSBytes), c.CPUSeconds, strings.Join(c.Args, " "))
	}
	var all []string
	for _, s := range r.Seconds {
		all = append(all, ms(s))
	}
	fmt.Fprintf(&b, "\nEvery push: %s\n\nDeviations from the install manifests:\n\n", strings.Join(all, ", "))
	for _, d := range r.Deviations {
		fmt.Fprintf(&b, "- %s\n", d)
	}
	return b.String()
}

// Write stores webhook.json and webhook.md in dir and returns their paths.
func (r *WebhookResult) Write(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, "webhook")
	if err := os.WriteFile(base+".json", append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(base+".md", []byte(r.Markdown()), 0o644); err != nil {
		return nil, err
	}
	return []string{base + ".json", base + ".md"}, nil
}
