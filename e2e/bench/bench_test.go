package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/workspace"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// smokeBins are the controllers the smoke tests run, built once for the package: each
// smoke would otherwise spend most of its time building the same binaries.
var smokeBins = framework.NewBinaries("")

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard()) // as main does
	code := m.Run()
	_ = smokeBins.Remove()
	os.Exit(code)
}

// TestBenchSmoke runs the whole benchmark at N=10 so it never rots: every Kustomization
// becomes Ready, the upgrade lands, and the report has every field. It skips (saying so)
// only while kustomize-controller does not compile.
func TestBenchSmoke(t *testing.T) {
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = UpstreamTuning().Apply(opts.WithControllers("source-controller", "kustomize-controller"))
	opts.Binaries = smokeBins
	env := framework.SetupOrSkipUnbuilt(t, opts)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const n = 10
	res, err := Run(ctx, env, Config{N: n, Upgrade: true, Timeout: 3 * time.Minute, Logf: t.Logf,
		Steady: 10 * time.Second, Interval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The floor: the same work with a plain client, here beside the controllers in its own
	// namespace (make bench runs it on a fresh cluster).
	res.Floor, err = RunFloor(ctx, env, Config{N: n, Namespace: "floor", Upgrade: true, Timeout: 3 * time.Minute, Logf: t.Logf}, 10, 20)
	if err != nil {
		t.Fatal(err)
	}

	var list kustomizev1.KustomizationList
	if err := env.Client.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != n {
		t.Fatalf("%d Kustomizations, want %d", len(list.Items), n)
	}
	for i := range list.Items {
		if ok, why := framework.Readiness(&list.Items[i]); !ok {
			t.Errorf("Kustomization %s not Ready: %s", list.Items[i].Name, why)
		}
	}
	checkReport(t, res, n)

	// The Flux floor and the API cost classes want a cluster without controllers: stop them
	// (the benchmark is done) and run both here in their own namespaces (make bench runs
	// each on a fresh cluster).
	for _, p := range env.Controllers {
		p.Stop()
	}
	res.FluxFloor, err = RunFluxFloor(ctx, env, Config{N: n, Namespace: "fluxfloor", Upgrade: true, Timeout: 3 * time.Minute, Logf: t.Logf}, 10, 20)
	if err != nil {
		t.Fatal(err)
	}
	checkFluxFloor(ctx, t, env, res, n)
	checkAPICostSmoke(ctx, t, env)

	dir := t.TempDir()
	paths, err := res.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	b, err := os.ReadFile(paths[0])
	if err != nil || json.Unmarshal(b, &back) != nil || back.N != n {
		t.Fatalf("bench-%d.json does not round-trip: %v", n, err)
	}
	md, _ := os.ReadFile(paths[1])
	t.Logf("report:\n%s", md)
}

func checkReport(t *testing.T, res *Result, n int) {
	t.Helper()
	if res.N != n || res.Workload != "OCIRepository+Kustomization" || res.ArtifactDigest == "" {
		t.Errorf("result header: %+v", res)
	}
	in := res.Install
	if in.CreateSeconds <= 0 || in.SourcesReadySeconds <= 0 || in.KustomizationsReadySeconds <= 0 {
		t.Errorf("install phase incomplete: %+v", in)
	}
	if res.Upgrade == nil || res.Upgrade.KustomizationsReadySeconds <= 0 || res.Upgrade.CreateSeconds <= 0 {
		t.Errorf("upgrade phase incomplete: %+v", res.Upgrade)
	}
	if len(res.Controllers) != 2 {
		t.Fatalf("controllers: %+v", res.Controllers)
	}
	for _, c := range res.Controllers {
		if c.PeakRSSBytes < 10<<20 || c.InstallPeakRSSBytes <= 0 || c.CPUSeconds <= 0 || c.InstallCPUSeconds <= 0 {
			t.Errorf("%s resource use incomplete: %+v", c.Name, c)
		}
		if len(c.ClientRequests) == 0 || c.Bin == "" || len(c.Args) == 0 {
			t.Errorf("%s settings or requests missing: %+v", c.Name, c)
		}
	}
	if c := res.controller("kustomize-controller"); c.Concurrent != "20" || c.KubeAPIQPS != "500" || c.KubeAPIBurst != "1000" {
		t.Errorf("kustomize-controller settings not recorded: %+v", c)
	}
	if c := res.controller("source-controller"); c.Concurrent != "10" {
		t.Errorf("source-controller --concurrent not recorded: %+v", c)
	}
	for phase, a := range map[string]framework.APIRequests{"install": res.APIRequests.Install, "upgrade": res.APIRequests.Upgrade} {
		if a.ByVerb["POST"] == 0 && phase == "install" || a.ByVerb["PATCH"] == 0 && a.ByVerb["APPLY"] == 0 {
			t.Errorf("%s API requests implausible: %v", phase, a.ByVerb)
		}
	}
	if res.BenchClientRequests["POST"] < int64(2*n) {
		t.Errorf("benchmark client requests %v: want at least %d creates", res.BenchClientRequests, 2*n)
	}
	if len(res.Deviations) == 0 || res.Finished.Before(res.Started) {
		t.Errorf("deviations or times missing: %+v", res)
	}
	checkTimeline(t, res, n)
}

// checkTimeline checks that every app is on the timeline, the steady state saw the periodic
// reconciles, and the floor ran both phases.
func checkTimeline(t *testing.T, res *Result, n int) {
	t.Helper()
	tl := res.Timeline
	if tl == nil || tl.MissedSpans != 0 || len(tl.Errors) != 0 {
		t.Fatalf("timeline %+v", tl)
	}
	for phase, stages := range map[string][]Stage{"install": tl.Install, "upgrade": tl.Upgrade} {
		found := map[string]Stage{}
		for _, s := range stages {
			found[s.Name] = s
			if s.P50 > s.P90 || s.P90 > s.Max {
				t.Errorf("%s stage %+v: percentiles out of order", phase, s)
			}
		}
		for _, name := range []string{"queue wait", "apply", "status patch (applied)", "build"} {
			if found[name].N != n {
				t.Errorf("%s stage %q: %+v, want %d apps", phase, name, found[name], n)
			}
		}
	}
	if len(tl.Busy) < 2 {
		t.Errorf("busy %+v", tl.Busy)
	}
	st := res.Steady
	if st == nil || st.Reconciles["Kustomization/Ready"] == 0 || st.Reconciles["OCIRepository/Ready"] == 0 ||
		st.CPUSeconds["kustomize-controller"] <= 0 || len(st.RequestSeries) == 0 || st.APIRequests.Total() == 0 {
		t.Errorf("steady state %+v", st)
	}
	f := res.Floor
	if f == nil || f.Install.ReadySeconds <= 0 || f.Upgrade == nil || f.Upgrade.ReadySeconds <= 0 ||
		f.APIRequests.Install.ByVerb["APPLY"] < int64(4*n) || f.APIRequests.Upgrade.ByVerb["APPLY"] < int64(4*n) {
		t.Fatalf("floor %+v", f)
	}
	md := res.Markdown()
	for _, want := range []string{"times the floor", "| install stage |", "| upgrade stage |", "Steady state:", "| floor install stage |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestAppManifestMatchesReference keeps the embedded workload identical to flux-benchmark's
// (when the reference checkout is present next to the repository).
func TestAppManifestMatchesReference(t *testing.T) {
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	shared := os.Getenv("SHARED")
	if shared == "" {
		shared = filepath.Join(root, "..", "shared")
	}
	ref, err := os.ReadFile(filepath.Join(shared, "reference", "flux-benchmark", "podinfo-app.yaml"))
	if os.IsNotExist(err) {
		t.Skipf("no reference checkout at %s", shared)
	} else if err != nil {
		t.Fatal(err)
	}
	if string(ref) != appManifest {
		t.Fatal("testdata/podinfo-app.yaml differs from flux-benchmark's podinfo-app.yaml: results would not compare")
	}
	for _, v := range []string{"${INDEX}", "${PODS:=0}", "${MCPU}"} {
		if !strings.Contains(appManifest, v) {
			t.Errorf("app manifest lacks %s", v)
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantNs     []int
		wantArgs   map[string][]string
		wantErr    string
		wantCtrls  []string
		wantUpgrad bool
	}{
		{
			name:   "upstream defaults",
			wantNs: []int{100},
			wantArgs: map[string][]string{
				"source-controller":    {"--concurrent=10", "--kube-api-qps=500", "--kube-api-burst=1000", "--requeue-dependency=5s"},
				"kustomize-controller": {"--concurrent=20", "--kube-api-qps=500", "--kube-api-burst=1000", "--requeue-dependency=5s"},
			},
			wantCtrls:  []string{"source-controller", "kustomize-controller"},
			wantUpgrad: true,
		},
		{
			name:   "sizes, own tuning, env args last",
			args:   []string{"--n", "100,500,1000", "--kustomize-concurrent=4", "--kube-api-qps=0", "--kube-api-burst=0", "--requeue-dependency=0", "--upgrade=false"},
			env:    map[string]string{"GOTK_E2E_KUSTOMIZE_CONTROLLER_ARGS": "--concurrent=8"},
			wantNs: []int{100, 500, 1000},
			wantArgs: map[string][]string{
				"source-controller":    {"--concurrent=10"},
				"kustomize-controller": {"--concurrent=4", "--concurrent=8"},
			},
			wantCtrls: []string{"source-controller", "kustomize-controller"},
		},
		{
			name:       "controller list from the flag",
			args:       []string{"--controllers=source-controller", "--source-concurrent=0", "--kube-api-qps=0", "--kube-api-burst=0", "--requeue-dependency=0"},
			env:        map[string]string{framework.EnvControllers: "kustomize-controller", "GOTK_E2E_SOURCE_CONTROLLER_BIN": "/opt/sc"},
			wantNs:     []int{100},
			wantArgs:   map[string][]string{"source-controller": nil},
			wantCtrls:  []string{"source-controller"},
			wantUpgrad: true,
		},
		{name: "bad n", args: []string{"--n", "100,x"}, wantErr: "positive numbers"},
		{name: "unknown controller", args: []string{"--controllers=fluxd"}, wantErr: "unknown controller"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{framework.EnvControllers, "GOTK_E2E_SOURCE_CONTROLLER_BIN", "GOTK_E2E_SOURCE_CONTROLLER_ARGS", "GOTK_E2E_KUSTOMIZE_CONTROLLER_ARGS", "GOTK_E2E_KUSTOMIZE_CONTROLLER_BIN"} {
				t.Setenv(k, tt.env[k])
			}
			f, err := parseFlags(tt.args)
			var opts framework.Options
			if err == nil {
				opts, err = f.envOptions()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.ns, tt.wantNs) || f.cfg.Upgrade != tt.wantUpgrad {
				t.Errorf("ns %v upgrade %v, want %v %v", f.ns, f.cfg.Upgrade, tt.wantNs, tt.wantUpgrad)
			}
			var names []string
			for _, c := range opts.Controllers {
				names = append(names, c.Name)
				if !slices.Equal(c.Args, tt.wantArgs[c.Name]) {
					t.Errorf("%s args %v, want %v", c.Name, c.Args, tt.wantArgs[c.Name])
				}
			}
			if !slices.Equal(names, tt.wantCtrls) {
				t.Errorf("controllers %v, want %v", names, tt.wantCtrls)
			}
			if sc, ok := opts.Controller("source-controller"); ok && tt.env["GOTK_E2E_SOURCE_CONTROLLER_BIN"] != "" && sc.Bin != "/opt/sc" {
				t.Errorf("source-controller binary %q, want /opt/sc", sc.Bin)
			}
		})
	}
}

func TestFlagValue(t *testing.T) {
	args := []string{"--concurrent=10", "--log-level=info", "--concurrent=4"}
	if got := flagValue(args, "concurrent"); got != "4" {
		t.Errorf("last --concurrent = %q, want 4", got)
	}
	if got := flagValue(args, "kube-api-qps"); got != "default" {
		t.Errorf("--kube-api-qps = %q, want default", got)
	}
}

func TestMarkdown(t *testing.T) {
	res := &Result{N: 100, Workload: "OCIRepository+Kustomization", Namespace: "apps", Workers: 20,
		Install: Phase{CreateSeconds: 1.23, SourcesReadySeconds: 12.34, KustomizationsReadySeconds: 61.5},
		Upgrade: &Phase{CreateSeconds: 0.5, KustomizationsReadySeconds: 30},
		Controllers: []*ControllerResult{
			{Name: "kustomize-controller", Concurrent: "20", InstallPeakRSSBytes: 80 << 20, PeakRSSBytes: 90 << 20, InstallCPUSeconds: 20, UpgradeCPUSeconds: 10},
			{Name: "source-controller", Concurrent: "10", InstallPeakRSSBytes: 40 << 20, PeakRSSBytes: 41 << 20, InstallCPUSeconds: 3},
		},
	}
	res.APIRequests.Install = framework.APIRequests{ByVerb: map[string]int64{"POST": 200, "PATCH": 400}}
	md := res.Markdown()
	for _, want := range []string{
		"| 100 | OCIRepository | source-controller | 12.3s | 40Mi | 3.0s |",
		"| 100 | Kustomization | kustomize-controller | 1m1.5s | 80Mi | 20.0s |",
		"| 100 | Kustomization (upgrade MCPU=2m) | kustomize-controller | 30s | 90Mi | 10.0s |",
		"- install: 600, 6.0 per app (PATCH=400 POST=200)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	res.Install.KustomizationsReadySeconds, res.Upgrade = 0, nil
	if md := res.Markdown(); strings.Contains(md, "| Kustomization") {
		t.Errorf("a sources-only run shows Kustomization rows:\n%s", md)
	}
}

func TestPercentile(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[int]float64{50: 5, 90: 9, 100: 10, 1: 1} {
		if got := percentile(sorted, p); got != want {
			t.Errorf("p%d = %v, want %v", p, got, want)
		}
	}
	if got := percentile([]float64{0.2}, 50); got != 0.2 {
		t.Errorf("p50 of one value = %v", got)
	}
}

// TestHelmBenchSmoke runs the HelmChart workload at N=10 over both repository kinds so it
// never rots: every HelmChart becomes Ready and the report has every field.
func TestHelmBenchSmoke(t *testing.T) {
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = UpstreamTuning().Apply(opts.WithControllers("source-controller"))
	opts.Controllers[0].Args = append([]string{"--helm-cache-max-size=10"}, opts.Controllers[0].Args...)
	opts.Binaries = smokeBins
	env := framework.SetupOrSkipUnbuilt(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const n = 10
	for _, kind := range []string{helmHTTP, helmOCI} {
		res, err := RunHelmCharts(ctx, env, HelmConfig{N: n, Repository: kind, Namespace: "helm-" + kind, Workers: 5, Timeout: 3 * time.Minute, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		if res.ReadySeconds <= 0 || res.Controller == nil || res.Controller.PeakRSSBytes < 10<<20 || res.Controller.Concurrent != "10" {
			t.Errorf("%s: report incomplete: %+v %+v", kind, res, res.Controller)
		}
		if kind == helmHTTP && (res.ChartDownloads != 1 || res.IndexFetches < 1 || res.IndexParses != res.IndexFetches+res.CacheLoads) {
			t.Errorf("%s: %d chart downloads and %d index fetches for %d charts of one version, want 1 and at least 1", kind, res.ChartDownloads, res.IndexFetches, n)
		}
		if res.PeakAnonRSSBytes <= 0 || res.PeakAnonRSSBytes > res.Controller.PeakRSSBytes {
			t.Errorf("%s: peak anonymous RSS %d, VmHWM %d", kind, res.PeakAnonRSSBytes, res.Controller.PeakRSSBytes)
		}
		if !strings.Contains(res.Markdown(), fmt.Sprintf("| %d | HelmChart | source-controller |", n)) {
			t.Errorf("%s: markdown:\n%s", kind, res.Markdown())
		}
		t.Logf("report:\n%s", res.Markdown())
	}
}

// TestBenchHelmSmoke runs the HelmRelease workload at N=5 so it never rots: every
// HelmRelease is installed and upgraded, and the report has its fields.
func TestBenchHelmSmoke(t *testing.T) {
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = UpstreamTuning().Apply(opts.WithControllers("source-controller", "helm-controller"))
	opts.Binaries = smokeBins
	env := framework.SetupOrSkipUnbuilt(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const n = 5
	res, err := Run(ctx, env, Config{N: n, Workload: WorkloadHelmRelease, Upgrade: true, Timeout: 3 * time.Minute, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res.Install.HelmReleasesReadySeconds <= 0 || res.Upgrade == nil || res.Upgrade.HelmReleasesReadySeconds <= 0 {
		t.Errorf("phases incomplete: %+v %+v", res.Install, res.Upgrade)
	}
	if c := res.controller("helm-controller"); c.Concurrent != "10" || c.PeakRSSBytes < 10<<20 || len(c.ClientRequests) == 0 {
		t.Errorf("helm-controller result incomplete: %+v", c)
	}
	md := res.Markdown()
	for _, want := range []string{"| 5 | HelmRelease | helm-controller |", "| 5 | HelmRelease (upgrade cpu request 2m) |", "per app"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	paths, err := res.Write(t.TempDir())
	if err != nil || !strings.HasSuffix(paths[0], "bench-helmrelease-5.json") {
		t.Errorf("written %v, %v", paths, err)
	}
}
