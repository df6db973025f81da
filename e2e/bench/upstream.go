package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gotk.dev/e2e/framework"
)

// UpstreamVersion is the release of upstream Flux's source-controller and kustomize-controller
// that --upstream runs: the newest whose go.mod accepts this repository's Go (v1.10 needs go
// 1.27). hack/build-upstream.sh (`make testbin-upstream`) builds it from the Go module proxy
// into bin/upstream/<name>-<version>; a test keeps the two pins equal.
const UpstreamVersion = "v1.9.6"

// upstreamControllers are the controllers --upstream runs as upstream's builds.
func upstreamControllers() []string { return []string{"source-controller", "kustomize-controller"} }

// UpstreamBin is where hack/build-upstream.sh puts upstream's build of controller.
func UpstreamBin(dir, controller string) string {
	return filepath.Join(dir, controller+"-"+UpstreamVersion)
}

// upstreamOptions are opts with every controller replaced by upstream's build from dir, with
// the same arguments (so the same tuning). Only the controllers upstream's builds cover may
// run.
func upstreamOptions(opts framework.Options, dir string) (framework.Options, error) {
	out := opts
	out.Controllers = nil
	for _, c := range opts.Controllers {
		if !slices.Contains(upstreamControllers(), c.Name) {
			return out, fmt.Errorf("--upstream runs %s only; %s has no upstream build here (use --controllers)",
				strings.Join(upstreamControllers(), " and "), c.Name)
		}
		c.Bin, c.Peer = UpstreamBin(dir, c.Name), true
		if _, err := os.Stat(c.Bin); err != nil {
			return out, fmt.Errorf("upstream %s %s is not built (run `make testbin-upstream`): %w", c.Name, UpstreamVersion, err)
		}
		out.Controllers = append(out.Controllers, c)
	}
	return out, nil
}

// addUpstream runs the same workload with upstream's controllers on a fresh environment,
// writes that run's own result (bench-<N>-upstream.*) to outDir and puts the comparison into
// res.
func addUpstream(ctx context.Context, opts framework.Options, cfg Config, dir, outDir string, res *Result) ([]string, error) {
	upOpts, err := upstreamOptions(opts, dir)
	if err != nil {
		return nil, err
	}
	cfg.Logf("bench: the same workload with upstream Flux %s on a fresh cluster", UpstreamVersion)
	up, err := runOne(ctx, upOpts, cfg)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", UpstreamVersion, err)
	}
	// Upstream serves no reconcile spans: its timeline would be empty but for the read errors.
	up.Timeline, up.spans = nil, nil
	up.Variant = "upstream Flux " + UpstreamVersion
	up.Deviations = append(up.Deviations, "upstream's controllers have no --kubeconfig flag: they read $KUBECONFIG")
	paths, err := up.Write(outDir)
	if err != nil {
		return nil, err
	}
	res.Upstream = compareUpstream(res, up)
	return paths, nil
}

// UpstreamComparison is ours beside the floor and upstream's controllers, each run on a fresh
// cluster of the same kind with the same workload and tuning.
type UpstreamComparison struct {
	Version string `json:"version"`
	// Controllers are upstream's processes: binaries, arguments, resource use.
	Controllers []*ControllerResult `json:"controllers"`
	LoadAverage struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"loadAverage"`
	// Rows are the compared measures.
	Rows []ComparisonRow `json:"rows"`
}

// ComparisonRow is one measure of ours, the floor's (0: the floor has none) and upstream's,
// and the ratios (0 when a side is missing).
type ComparisonRow struct {
	Measure         string  `json:"measure"`
	Unit            string  `json:"unit"`
	Ours            float64 `json:"ours"`
	Floor           float64 `json:"floor,omitempty"`
	Upstream        float64 `json:"upstream"`
	OursPerFloor    float64 `json:"oursPerFloor,omitempty"`
	OursPerUpstream float64 `json:"oursPerUpstream,omitempty"`
}

// Units of a ComparisonRow.
const (
	unitSeconds  = "s"
	unitBytes    = "bytes"
	unitRequests = "requests"
)

// compareUpstream builds the comparison of ours (with its floor, when run) and upstream's run.
func compareUpstream(ours, up *Result) *UpstreamComparison {
	c := &UpstreamComparison{Version: UpstreamVersion, Controllers: up.Controllers}
	c.LoadAverage.Start, c.LoadAverage.End = up.LoadAverage.Start, up.LoadAverage.End
	add := func(measure, unit string, o, floor, u float64) {
		if o == 0 && u == 0 {
			return
		}
		r := ComparisonRow{Measure: measure, Unit: unit, Ours: o, Floor: floor, Upstream: u}
		if floor > 0 {
			r.OursPerFloor = o / floor
		}
		if u > 0 {
			r.OursPerUpstream = o / u
		}
		c.Rows = append(c.Rows, r)
	}
	var fl FloorResult
	if ours.Floor != nil {
		fl = *ours.Floor
	}
	add("install: all OCIRepositories Ready", unitSeconds, ours.Install.SourcesReadySeconds, 0, up.Install.SourcesReadySeconds)
	add("install: all Kustomizations Ready", unitSeconds, ours.Install.KustomizationsReadySeconds, fl.Install.ReadySeconds,
		up.Install.KustomizationsReadySeconds)
	if ours.Upgrade != nil && up.Upgrade != nil {
		floorUpgrade := 0.0
		if fl.Upgrade != nil {
			floorUpgrade = fl.Upgrade.ReadySeconds
		}
		add("upgrade: all Kustomizations Ready", unitSeconds, ours.Upgrade.KustomizationsReadySeconds, floorUpgrade,
			up.Upgrade.KustomizationsReadySeconds)
	}
	for _, name := range upstreamControllers() {
		o, u := ours.controller(name), up.controller(name)
		add(name+" CPU (run)", unitSeconds, o.CPUSeconds, 0, u.CPUSeconds)
	}
	for _, name := range upstreamControllers() {
		o, u := ours.controller(name), up.controller(name)
		add(name+" peak RSS (run)", unitBytes, float64(o.PeakRSSBytes), 0, float64(u.PeakRSSBytes))
	}
	add("API requests, install (all clients)", unitRequests, float64(ours.APIRequests.Install.Total()),
		float64(fl.APIRequests.Install.Total()), float64(up.APIRequests.Install.Total()))
	if ours.Upgrade != nil && up.Upgrade != nil {
		add("API requests, upgrade (all clients)", unitRequests, float64(ours.APIRequests.Upgrade.Total()),
			float64(fl.APIRequests.Upgrade.Total()), float64(up.APIRequests.Upgrade.Total()))
	}
	return c
}

// markdown renders the comparison table (nothing when upstream did not run).
func (c *UpstreamComparison) markdown(b *strings.Builder) {
	if c == nil {
		return
	}
	fmt.Fprintf(b, "\nUpstream Flux %s (its source-controller and kustomize-controller built from the Go module proxy, "+
		"the same workload, arguments and tuning on a fresh cluster; load average %s at the start, %s at the end):\n\n",
		c.Version, c.LoadAverage.Start, c.LoadAverage.End)
	b.WriteString("| Measure | ours | floor | upstream | ours / floor | ours / upstream |\n|---|---|---|---|---|---|\n")
	for _, r := range c.Rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", r.Measure, r.value(r.Ours), r.value(r.Floor), r.value(r.Upstream),
			ratio(r.OursPerFloor), ratio(r.OursPerUpstream))
	}
	b.WriteString("\nA ratio below 1 means ours took less (time, CPU, memory, requests).\n")
}

// value renders v in the row's unit ("-" for a missing value).
func (r ComparisonRow) value(v float64) string {
	if v == 0 {
		return "-"
	}
	switch r.Unit {
	case unitSeconds:
		return dur(v)
	case unitBytes:
		return mebibytes(int64(v))
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

// errUpstreamFlags says which runs --upstream does not cover.
var errUpstreamFlags = errors.New("--upstream compares the " + WorkloadKustomization + " workload in mttp mode without shards")
