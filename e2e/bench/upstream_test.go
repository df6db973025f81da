package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/workspace"

	"gotk.dev/e2e/framework"
)

// TestUpstreamComparison renders ours beside the floor and upstream from fixed numbers: the
// ratios, the table of `make bench` and the JSON fields. It runs no cluster and downloads
// nothing (the real run needs `make testbin-upstream`, see the bench's --upstream).
func TestUpstreamComparison(t *testing.T) {
	ours := &Result{
		N:       1000,
		Install: Phase{SourcesReadySeconds: 18, KustomizationsReadySeconds: 50},
		Upgrade: &Phase{KustomizationsReadySeconds: 30},
		Controllers: []*ControllerResult{
			{Name: "kustomize-controller", CPUSeconds: 20, PeakRSSBytes: 128 << 20},
			{Name: "source-controller", CPUSeconds: 5, PeakRSSBytes: 100 << 20},
		},
		Floor: &FloorResult{Install: FloorPhase{ReadySeconds: 25}, Upgrade: &FloorPhase{ReadySeconds: 20}},
	}
	ours.APIRequests.Install = framework.APIRequests{ByVerb: map[string]int64{"POST": 20000}}
	ours.APIRequests.Upgrade = framework.APIRequests{ByVerb: map[string]int64{"PATCH": 12000}}
	ours.Floor.APIRequests.Install = framework.APIRequests{ByVerb: map[string]int64{"PATCH": 10000}}
	up := &Result{
		N:       1000,
		Install: Phase{SourcesReadySeconds: 90, KustomizationsReadySeconds: 200},
		Upgrade: &Phase{KustomizationsReadySeconds: 150},
		Controllers: []*ControllerResult{
			{Name: "kustomize-controller", Bin: "/bin/upstream/kustomize-controller-" + UpstreamVersion, CPUSeconds: 240, PeakRSSBytes: 256 << 20},
			{Name: "source-controller", CPUSeconds: 10, PeakRSSBytes: 200 << 20},
		},
	}
	up.APIRequests.Install = framework.APIRequests{ByVerb: map[string]int64{"POST": 50000}}
	up.APIRequests.Upgrade = framework.APIRequests{ByVerb: map[string]int64{"PATCH": 40000}}
	up.LoadAverage.Start, up.LoadAverage.End = "9.5 8.0 7.0", "10.1 9.0 8.0"

	ours.Upstream = compareUpstream(ours, up)
	rows := map[string]ComparisonRow{}
	for _, r := range ours.Upstream.Rows {
		rows[r.Measure] = r
	}
	for _, tt := range []struct {
		measure                    string
		perFloor, perUpstream      float64
		ours, floorValue, upstream float64
	}{
		{"install: all OCIRepositories Ready", 0, 0.2, 18, 0, 90},
		{"install: all Kustomizations Ready", 2, 0.25, 50, 25, 200},
		{"upgrade: all Kustomizations Ready", 1.5, 0.2, 30, 20, 150},
		{"kustomize-controller CPU (run)", 0, 20.0 / 240, 20, 0, 240},
		{"source-controller peak RSS (run)", 0, 0.5, 100 << 20, 0, 200 << 20},
		{"API requests, install (all clients)", 2, 0.4, 20000, 10000, 50000},
		{"API requests, upgrade (all clients)", 0, 0.3, 12000, 0, 40000},
	} {
		r, ok := rows[tt.measure]
		if !ok {
			t.Errorf("no row %q in %+v", tt.measure, ours.Upstream.Rows)
			continue
		}
		if r.Ours != tt.ours || r.Floor != tt.floorValue || r.Upstream != tt.upstream {
			t.Errorf("%s: ours %v floor %v upstream %v, want %v %v %v", tt.measure, r.Ours, r.Floor, r.Upstream, tt.ours, tt.floorValue, tt.upstream)
		}
		if !near(r.OursPerFloor, tt.perFloor) || !near(r.OursPerUpstream, tt.perUpstream) {
			t.Errorf("%s: ours/floor %v ours/upstream %v, want %v %v", tt.measure, r.OursPerFloor, r.OursPerUpstream, tt.perFloor, tt.perUpstream)
		}
	}

	md := ours.Markdown()
	for _, want := range []string{
		"Upstream Flux " + UpstreamVersion,
		"load average 9.5 8.0 7.0 at the start, 10.1 9.0 8.0 at the end",
		"| Measure | ours | floor | upstream | ours / floor | ours / upstream |",
		"| install: all Kustomizations Ready | 50s | 25s | 3m20s | 2.00x | 0.25x |",
		"| upgrade: all Kustomizations Ready | 30s | 20s | 2m30s | 1.50x | 0.20x |",
		"| kustomize-controller peak RSS (run) | 128Mi | - | 256Mi | - | 0.50x |",
		"| API requests, install (all clients) | 20000 | 10000 | 50000 | 2.00x | 0.40x |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	js, err := json.Marshal(ours)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Upstream struct {
			Version     string
			Controllers []struct{ Bin string }
			Rows        []struct {
				Measure         string
				OursPerUpstream float64
			}
		}
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Upstream.Version != UpstreamVersion || len(back.Upstream.Rows) != len(ours.Upstream.Rows) ||
		len(back.Upstream.Controllers) != 2 || !strings.Contains(back.Upstream.Controllers[0].Bin, "upstream") {
		t.Errorf("JSON upstream = %+v", back.Upstream)
	}

	// Upstream's own run is written beside ours, named apart.
	up.Variant = "upstream Flux " + UpstreamVersion
	dir := t.TempDir()
	paths, err := up.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != "bench-1000-upstream.json" {
		t.Errorf("upstream result written to %v, want bench-1000-upstream.{json,md}", paths)
	}
	if md, _ := os.ReadFile(paths[1]); !strings.Contains(string(md), "1000 apps (") || !strings.Contains(string(md), ", upstream Flux "+UpstreamVersion+")") {
		t.Errorf("upstream markdown does not say whose run it is:\n%s", md)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestUpstreamOptions: upstream's builds replace ours with the same arguments and run as peers
// (no --kubeconfig); a missing build names the make target, a controller without an upstream
// build is refused.
func TestUpstreamOptions(t *testing.T) {
	dir := t.TempDir()
	opts := UpstreamTuning().Apply(framework.Options{Controllers: []framework.ControllerOptions{
		{Name: "source-controller"}, {Name: "kustomize-controller", Args: []string{"--concurrent=8"}},
	}})
	if _, err := upstreamOptions(opts, dir); err == nil || !strings.Contains(err.Error(), "make testbin-upstream") {
		t.Fatalf("missing builds: err = %v, want one naming make testbin-upstream", err)
	}
	for _, name := range upstreamControllers() {
		if err := os.WriteFile(UpstreamBin(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	up, err := upstreamOptions(opts, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range up.Controllers {
		if !c.Peer || c.Bin != UpstreamBin(dir, c.Name) || strings.Join(c.Args, " ") != strings.Join(opts.Controllers[i].Args, " ") {
			t.Errorf("upstream %s = %+v, want a peer running %s with args %v", c.Name, c, UpstreamBin(dir, c.Name), opts.Controllers[i].Args)
		}
	}
	if opts.Controllers[0].Bin != "" || opts.Controllers[0].Peer {
		t.Errorf("upstreamOptions changed ours: %+v", opts.Controllers[0])
	}
	withHelm := opts.WithControllers("source-controller", "helm-controller")
	if _, err := upstreamOptions(withHelm, dir); err == nil || !strings.Contains(err.Error(), "helm-controller") {
		t.Errorf("helm-controller: err = %v, want a refusal naming it", err)
	}
	if _, err := parseFlags([]string{"--upstream", "--shards", "2"}); err == nil {
		t.Error("--upstream --shards 2 accepted")
	}
}

// TestUpstreamVersionMatchesBuildScript keeps the version the bench runs equal to the one
// hack/build-upstream.sh builds.
func TestUpstreamVersionMatchesBuildScript(t *testing.T) {
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "hack", "build-upstream.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range upstreamControllers() {
		if want := name + "=" + UpstreamVersion; !strings.Contains(string(script), want) {
			t.Errorf("hack/build-upstream.sh does not build %s (UpstreamVersion in upstream.go)", want)
		}
	}
}
