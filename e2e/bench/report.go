package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gotk.dev/e2e/framework"
	"gotk.dev/pkg/timeline"
)

// Result is one benchmark run, written as bench-<N>.json.
type Result struct {
	N         int    `json:"n"`
	Workload  string `json:"workload"`
	Namespace string `json:"namespace"`
	Workers   int    `json:"workers"`
	// Shards is how many instances of each sharded controller ran (1: no sharding).
	Shards         int                 `json:"shards,omitempty"`
	ArtifactDigest string              `json:"artifactDigest"`
	Started        time.Time           `json:"started"`
	Finished       time.Time           `json:"finished"`
	Host           Host                `json:"host"`
	Controllers    []*ControllerResult `json:"controllers"`
	// Install is creating the N apps until all are Ready.
	Install Phase `json:"install"`
	// Upgrade is MCPU=2m on every Kustomization until all are Ready again (nil when not run).
	Upgrade     *Phase `json:"upgrade,omitempty"`
	APIRequests struct {
		Install framework.APIRequests `json:"install"`
		Upgrade framework.APIRequests `json:"upgrade"`
	} `json:"apiRequests"`
	// LoadAverage is /proc/loadavg when the run started and ended: the machine may be shared.
	LoadAverage struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"loadAverage"`
	// ControlPlaneCPU is the CPU seconds of each control plane process by phase.
	ControlPlaneCPU map[string]map[string]float64 `json:"controlPlaneCPU,omitempty"`
	// ClientCPUSeconds is the benchmark process's own CPU seconds by phase.
	ClientCPUSeconds map[string]float64 `json:"clientCPUSeconds,omitempty"`
	// Variant names a run of other controllers than ours ("upstream Flux v1.9.6"; empty for ours).
	Variant string `json:"variant,omitempty"`
	// Floor is the same workload done by a plain client (nil when not run).
	Floor *FloorResult `json:"floor,omitempty"`
	// FluxFloor is the floor plus the API writes any upstream-compatible Flux makes per app
	// (floor_flux.go; nil when not run).
	FluxFloor *FloorResult `json:"fluxFloor,omitempty"`
	// Upstream is ours beside upstream Flux's controllers on the same workload (nil when not run).
	Upstream *UpstreamComparison `json:"upstream,omitempty"`
	// Steady is the steady state after the last phase (nil when not measured).
	Steady *SteadyResult `json:"steady,omitempty"`
	// Timeline is where each phase's time went, per stage (nil for runs without spans).
	Timeline *Timeline `json:"timeline,omitempty"`
	// spans are every reconcile span of the run (written beside the result).
	spans []timeline.Span
	// BenchClientRequests are the benchmark's own requests (included in APIRequests), by
	// HTTP method.
	BenchClientRequests map[string]int64 `json:"benchClientRequests"`
	// Deviations are the ways the controller processes differ from the install manifests.
	Deviations []string `json:"deviations"`
}

// Host describes the machine.
type Host struct {
	Name      string `json:"name"`
	CPUs      int    `json:"cpus"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	GoVersion string `json:"goVersion"`
}

// Phase holds the durations of one phase, in seconds from its start.
type Phase struct {
	// CreateSeconds is how long submitting the objects (or patches) took.
	CreateSeconds float64 `json:"createSeconds"`
	// SourcesReadySeconds is when the last OCIRepository became Ready (install only).
	SourcesReadySeconds float64 `json:"sourcesReadySeconds,omitempty"`
	// KustomizationsReadySeconds is when the last Kustomization became Ready at the phase's
	// generation.
	KustomizationsReadySeconds float64 `json:"kustomizationsReadySeconds,omitempty"`
	// HelmReleasesReadySeconds is when the last HelmRelease became Ready at the phase's
	// generation (HelmRelease workload).
	HelmReleasesReadySeconds float64 `json:"helmReleasesReadySeconds,omitempty"`
}

// ControllerResult is one controller's settings and resource use.
type ControllerResult struct {
	Name string   `json:"name"`
	Bin  string   `json:"bin"`
	Args []string `json:"args"`
	// Concurrent, KubeAPIQPS and KubeAPIBurst are the effective flag values ("default" when
	// not passed).
	Concurrent   string `json:"concurrent"`
	KubeAPIQPS   string `json:"kubeAPIQPS"`
	KubeAPIBurst string `json:"kubeAPIBurst"`
	// PeakRSSBytes is the peak resident set over the whole run; InstallPeakRSSBytes at the
	// end of the install phase.
	PeakRSSBytes        int64   `json:"peakRSSBytes"`
	InstallPeakRSSBytes int64   `json:"installPeakRSSBytes"`
	CPUSeconds          float64 `json:"cpuSeconds"`
	InstallCPUSeconds   float64 `json:"installCPUSeconds"`
	UpgradeCPUSeconds   float64 `json:"upgradeCPUSeconds"`
	// ClientRequests are the controller's own API requests by HTTP method
	// (rest_client_requests_total) since it started.
	ClientRequests map[string]int64 `json:"clientRequests"`
}

// concurrency is each controller's --concurrent (0 when left to its default).
func (r *Result) concurrency() map[string]int {
	out := map[string]int{}
	for _, c := range r.Controllers {
		n, _ := strconv.Atoi(c.Concurrent)
		out[c.Name] = n
	}
	return out
}

// controller returns the named controller's result, or an empty one.
func (r *Result) controller(name string) *ControllerResult {
	for _, c := range r.Controllers {
		if c.Name == name {
			return c
		}
	}
	return &ControllerResult{Name: name}
}

// Markdown renders the result like flux-benchmark's RESULTS.md: one row per object type with
// the time until all N were Ready and the controller's peak memory, plus CPU time, settings
// and API request counts.
func (r *Result) Markdown() string {
	var b strings.Builder
	variant := ""
	if r.Variant != "" {
		variant = ", " + r.Variant
	}
	fmt.Fprintf(&b, "## MTTP benchmark: %d apps (%s%s)\n\n", r.N, r.Started.Format("2006-01-02 15:04 MST"), variant)
	if r.Shards > 1 {
		fmt.Fprintf(&b, "Sharded: %d instances of each controller (the primary and %d shards, each reconciling 1/%d of the apps); "+
			"the rows below are the primary's, every instance is in the table after them.\n\n", r.Shards, r.Shards-1, r.Shards)
	}
	fmt.Fprintf(&b, "Host: %d CPUs, %s/%s, %s. Workload: %s in namespace %s, %d client workers.\n\n",
		r.Host.CPUs, r.Host.GOOS, r.Host.GOARCH, r.Host.GoVersion, r.Workload, r.Namespace, r.Workers)
	fmt.Fprintf(&b, "Load average at the start: %s; at the end: %s.\n\n", r.LoadAverage.Start, r.LoadAverage.End)
	b.WriteString("| Objects | Type | Flux component | Duration | Max Memory | CPU |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	src, ks := r.controller("source-controller"), r.controller("kustomize-controller")
	row := func(typ, comp string, seconds float64, rss int64, cpu float64) {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %.1fs |\n", r.N, typ, comp, dur(seconds), mebibytes(rss), cpu)
	}
	if r.Install.SourcesReadySeconds > 0 {
		row("OCIRepository", src.Name, r.Install.SourcesReadySeconds, src.InstallPeakRSSBytes, src.InstallCPUSeconds)
	}
	if hc := r.controller("helm-controller"); r.Install.HelmReleasesReadySeconds > 0 {
		row("HelmRelease", hc.Name, r.Install.HelmReleasesReadySeconds, hc.InstallPeakRSSBytes, hc.InstallCPUSeconds)
		if r.Upgrade != nil {
			row("HelmRelease (upgrade cpu request 2m)", hc.Name, r.Upgrade.HelmReleasesReadySeconds, hc.PeakRSSBytes, hc.UpgradeCPUSeconds)
		}
	}
	if r.Install.KustomizationsReadySeconds > 0 {
		row("Kustomization", ks.Name, r.Install.KustomizationsReadySeconds, ks.InstallPeakRSSBytes, ks.InstallCPUSeconds)
	}
	if r.Upgrade != nil && r.Upgrade.KustomizationsReadySeconds > 0 {
		row("Kustomization (upgrade MCPU=2m)", ks.Name, r.Upgrade.KustomizationsReadySeconds, ks.PeakRSSBytes, ks.UpgradeCPUSeconds)
	}
	fmt.Fprintf(&b, "\nDurations run from the first create (or patch) until the last object was Ready; "+
		"submitting took %s (install)", dur(r.Install.CreateSeconds))
	if r.Upgrade != nil {
		fmt.Fprintf(&b, " and %s (upgrade)", dur(r.Upgrade.CreateSeconds))
	}
	b.WriteString(". Memory is the peak RSS (VmHWM) at the end of the phase; CPU is user+system time in the phase.\n\n")

	b.WriteString("| Controller | concurrent | kube-api-qps | kube-api-burst | Peak RSS (run) | CPU (run) | Own API requests |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, c := range r.Controllers {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.1fs | %s |\n", c.Name, c.Concurrent, c.KubeAPIQPS, c.KubeAPIBurst,
			mebibytes(c.PeakRSSBytes), c.CPUSeconds, framework.FormatCounts(c.ClientRequests))
	}
	b.WriteString("\nAPI server requests (all clients; the benchmark's own: " + framework.FormatCounts(r.BenchClientRequests) + "):\n\n")
	perApp := func(a framework.APIRequests) string {
		return fmt.Sprintf("%.1f per app", float64(a.Total())/float64(max(r.N, 1)))
	}
	fmt.Fprintf(&b, "- install: %d, %s (%s)\n", r.APIRequests.Install.Total(), perApp(r.APIRequests.Install), framework.FormatCounts(r.APIRequests.Install.ByVerb))
	if r.Upgrade != nil {
		fmt.Fprintf(&b, "- upgrade: %d, %s (%s)\n", r.APIRequests.Upgrade.Total(), perApp(r.APIRequests.Upgrade), framework.FormatCounts(r.APIRequests.Upgrade.ByVerb))
	}
	for _, phase := range []string{"install", "upgrade"} {
		if cp := r.ControlPlaneCPU[phase]; cp != nil {
			fmt.Fprintf(&b, "- control plane CPU (%s): %s\n", phase, formatCPU(cp))
		}
	}
	r.floorMarkdown(&b)
	r.Upstream.markdown(&b)
	r.Timeline.markdown(&b)
	r.Steady.markdown(&b)
	b.WriteString("\nArguments:\n\n")
	for _, c := range r.Controllers {
		fmt.Fprintf(&b, "- %s: `%s`\n", c.Name, strings.Join(c.Args, " "))
	}
	b.WriteString("\nDeviations from the install manifests:\n\n")
	for _, d := range r.Deviations {
		fmt.Fprintf(&b, "- %s\n", d)
	}
	return b.String()
}

// Write stores bench-<N>.json and bench-<N>.md (bench-helmrelease-<N>.* for the HelmRelease
// workload, bench-<N>-upstream.* for upstream's run) in dir, and every reconcile span in <name>-spans.json (for digging deeper than the
// timeline), and returns their paths.
func (r *Result) Write(dir string) ([]string, error) {
	name := fmt.Sprintf("bench-%d", r.N)
	if r.Install.HelmReleasesReadySeconds > 0 {
		name = fmt.Sprintf("bench-helmrelease-%d", r.N)
	}
	if r.Shards > 1 {
		name += fmt.Sprintf("-shards%d", r.Shards)
	}
	if r.Variant != "" {
		name += "-upstream"
	}
	paths, err := writeResult(dir, name, r, r.Markdown())
	if err != nil || r.spans == nil {
		return paths, err
	}
	js, err := json.Marshal(r.spans)
	if err != nil {
		return paths, err
	}
	p := filepath.Join(dir, name+"-spans.json")
	return append(paths, p), os.WriteFile(p, js, 0o644)
}

// writeResult stores result as <name>.json and markdown as <name>.md in dir.
func writeResult(dir, name string, result any, markdown string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(result, "", "  ")
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, name)
	if err := os.WriteFile(base+".json", append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(base+".md", []byte(markdown), 0o644); err != nil {
		return nil, err
	}
	return []string{base + ".json", base + ".md"}, nil
}

func dur(seconds float64) string {
	return (time.Duration(seconds * float64(time.Second))).Round(100 * time.Millisecond).String()
}

func mebibytes(b int64) string {
	return fmt.Sprintf("%dMi", (b+(1<<19))>>20)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// formatCPU renders CPU seconds per process as "a=1.2s b=3.4s" in name order.
func formatCPU(cpu map[string]float64) string {
	var parts []string
	for _, name := range sortedKeys(cpu) {
		parts = append(parts, fmt.Sprintf("%s=%.1fs", name, cpu[name]))
	}
	return strings.Join(parts, " ")
}
