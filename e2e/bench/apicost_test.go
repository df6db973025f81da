package main

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// TestAPICostReport checks the per-request arithmetic (idle CPU subtracted pro rata over the
// window), the table and the written files.
func TestAPICostReport(t *testing.T) {
	res := &APICostResult{N: 1000, Workers: 20, SettleSeconds: 3,
		Idle: APICostIdle{Seconds: 4, CPUSeconds: map[string]float64{"kube-apiserver": 0.2, "etcd": 0.04}},
		Classes: []APICostClass{
			{Name: "POST Event (core/v1, as client-go's recorder)", Requests: 1000, WallSeconds: 2.5, WindowSeconds: 5.5,
				APIServerCPUSeconds: 3.275, EtcdCPUSeconds: 0.555, OtherRequests: 3},
			{Name: "GET each object (quorum read)", Requests: 4000, WallSeconds: 1, WindowSeconds: 4, APIServerCPUSeconds: 0.1},
		}}
	ev := res.Classes[0]
	// kube-apiserver idles at 0.05 CPU-s/s: 3.275 - 0.05*5.5 = 3.0 s over 1000 requests.
	if got := ev.apiserverMsPerRequest(res.Idle); math.Abs(got-3.0) > 1e-9 {
		t.Errorf("kube-apiserver per request = %v ms, want 3.0", got)
	}
	// etcd idles at 0.01: 0.555 - 0.055 = 0.5 s.
	if got := ev.etcdMsPerRequest(res.Idle); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("etcd per request = %v ms, want 0.5", got)
	}
	// Less CPU than the idle rate accounts for is zero, never negative.
	if got := res.Classes[1].apiserverMsPerRequest(res.Idle); got != 0 {
		t.Errorf("below-idle class per request = %v, want 0", got)
	}
	if got := (APICostClass{}).apiserverMsPerRequest(APICostIdle{}); got != 0 {
		t.Errorf("empty class per request = %v, want 0", got)
	}
	md := res.Markdown()
	for _, want := range []string{
		"| POST Event (core/v1, as client-go's recorder) | 1000 | 3.27s | 3.00 ms | 0.56s | 0.50 ms | 2.5s | 3 |",
		"| GET each object (quorum read) | 4000 | 0.10s | 0.00 ms |",
		"Idle: kube-apiserver 0.20s and etcd 0.04s CPU in 4s.",
		"until 3s after its last response",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	paths, err := res.Write(t.TempDir())
	if err != nil || len(paths) != 2 || !strings.HasSuffix(paths[0], "apicost-1000.json") {
		t.Fatalf("written %v, %v", paths, err)
	}
	var back APICostResult
	b, err := os.ReadFile(paths[0])
	if err != nil || json.Unmarshal(b, &back) != nil || len(back.Classes) != 2 || back.Classes[0].EtcdCPUSeconds != 0.555 {
		t.Errorf("apicost-1000.json does not round-trip: %v %+v", err, back)
	}
}

// TestFluxFloorMarkdown checks ours beside both floors: the ratios name the floor they divide
// by, and a run without the Flux floor keeps the plain table.
func TestFluxFloorMarkdown(t *testing.T) {
	res := &Result{N: 1000, Install: Phase{KustomizationsReadySeconds: 38}, Upgrade: &Phase{KustomizationsReadySeconds: 26},
		Floor: &FloorResult{SourceWorkers: 10, ApplyWorkers: 20, Install: FloorPhase{ReadySeconds: 20}, Upgrade: &FloorPhase{ReadySeconds: 20}}}
	md := res.Markdown()
	if !strings.Contains(md, "| install: all Kustomizations Ready | 38s | 20s | 1.9 times the floor |\n") || strings.Contains(md, "Flux floor") {
		t.Errorf("plain floor table:\n%s", md)
	}
	res.FluxFloor = &FloorResult{Install: FloorPhase{ReadySeconds: 30.4, Stages: []Stage{{Name: "apply", N: 1000, P50: 0.1, P90: 0.2, Max: 0.3}}},
		Upgrade:         &FloorPhase{ReadySeconds: 24},
		ControlPlaneCPU: map[string]map[string]float64{"install": {"kube-apiserver": 40}}}
	res.FluxFloor.APIRequests.Install.ByVerb = map[string]int64{"PATCH": 4000, "POST": 9000}
	// CPU: ours 50 + 8 + 2 = 60 core-s, the floor 24 + 6 = 30, the Flux floor 40 + 4 = 44.
	res.Host.CPUs = 2
	res.ControlPlaneCPU = map[string]map[string]float64{"install": {"kube-apiserver": 50}}
	res.Controllers = []*ControllerResult{{Name: "kustomize-controller", InstallCPUSeconds: 8}}
	res.ClientCPUSeconds = map[string]float64{"install": 2}
	res.Floor.ControlPlaneCPU = map[string]map[string]float64{"install": {"kube-apiserver": 24}}
	res.Floor.ClientCPUSeconds = map[string]float64{"install": 6}
	res.FluxFloor.ClientCPUSeconds = map[string]float64{"install": 4}
	md = res.Markdown()
	for _, want := range []string{
		"| install: all Kustomizations Ready | 38s | 20s | 1.9 times the floor | 30.4s | 1.2 times the Flux floor |",
		"| upgrade: all Kustomizations Ready | 26s | 20s | 1.3 times the floor | 24s | 1.1 times the Flux floor |",
		"| API requests install | 0 | 0 | | 13000 | |",
		"- Flux floor control plane CPU (install): kube-apiserver=40.0s",
		"- Flux floor API requests (install): PATCH=4000 POST=9000",
		"| Flux floor install stage | n | p50 | p90 | max |",
		"| CPU install, all processes | 60.0s | 30.0s | | 44.0s | |",
		"| that CPU / 2 cores: the fastest install this machine allows | 30s | 15s | | 22s | |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
