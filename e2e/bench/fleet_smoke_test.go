package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// smokeEnv starts an environment of the given controllers with upstream's tuning, wrapped by
// with (nil keeps it), with the package's controller builds.
func smokeEnv(t *testing.T, with func(framework.Options) framework.Options, controllers ...string) *framework.Env {
	t.Helper()
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = UpstreamTuning().Apply(opts.WithControllers(controllers...))
	if with != nil {
		opts = with(opts)
	}
	opts.Binaries = smokeBins
	return framework.SetupOrSkipUnbuilt(t, opts)
}

// jsonKeys writes result as the benchmark does and reads its JSON back as a map, so a test
// checks the names users and scripts read.
func jsonKeys(t *testing.T, name string, result any, markdown string) map[string]any {
	t.Helper()
	paths, err := writeResult(t.TempDir(), name, result, markdown)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", paths[0], err)
	}
	return out
}

// TestBenchHubSpokeSmoke runs --mode hubspoke at 2 spokes x 5 apps so it never rots: every
// Kustomization is Ready on its spoke, and the result has what the issue measures: the time
// to converge, each spoke's API requests and the hub controllers' RSS.
func TestBenchHubSpokeSmoke(t *testing.T) {
	env := smokeEnv(t, nil, "source-controller", "kustomize-controller")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const n, spokes = 5, 2
	cfg := Config{N: n, Timeout: 2 * time.Minute, Logf: t.Logf}
	cfg.defaults()
	res, err := RunHubSpoke(ctx, env, cfg, spokes)
	if err != nil {
		t.Fatal(err)
	}
	if res.N != n || res.Spokes != spokes || res.CreateSeconds <= 0 || res.ReadySeconds < res.CreateSeconds {
		t.Errorf("result header: n %d spokes %d create %.2fs ready %.2fs", res.N, res.Spokes, res.CreateSeconds, res.ReadySeconds)
	}
	if res.HubAPIRequests.Total() == 0 {
		t.Error("no hub API requests recorded")
	}
	if len(res.SpokeAPIRequests) != spokes {
		t.Errorf("API requests of %d spokes, want %d", len(res.SpokeAPIRequests), spokes)
	}
	for name, a := range res.SpokeAPIRequests {
		// Every app is applied there (server-side apply) and health-checked (watch).
		if a.ByVerb["APPLY"] < n || a.ByVerb["WATCH"] == 0 {
			t.Errorf("spoke %s API requests %v: want at least %d applies and a watch", name, a.ByVerb, n)
		}
	}
	if c := findController(res.Controllers, "kustomize-controller"); c == nil || c.PeakRSSBytes < 10<<20 || c.CPUSeconds <= 0 || len(c.ClientRequests) == 0 {
		t.Errorf("hub kustomize-controller result incomplete: %+v", c)
	}
	var list kustomizev1.KustomizationList
	if err := env.Client.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != n*spokes {
		t.Errorf("%d Kustomizations on the hub, want %d", len(list.Items), n*spokes)
	}
	md := res.Markdown()
	for _, want := range []string{"2 spokes x 5 apps", "spoke1 API server", "spoke2 API server", "per app", "| kustomize-controller |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	js := jsonKeys(t, "hubspoke-2x5", res, md)
	for _, key := range []string{"readySeconds", "createSeconds", "hubAPIRequests", "spokeAPIRequests", "controllers", "host"} {
		if _, ok := js[key]; !ok {
			t.Errorf("hubspoke-2x5.json has no %q", key)
		}
	}
	t.Logf("report:\n%s", md)
}

// TestBenchShardsSmoke runs --shards 2 at N=10 so it never rots: the apps alternate between
// the primary and shard1, every instance does its share, and the result has what the issue
// compares between 1 and 2 shards: the time, the API requests and each instance's RSS.
func TestBenchShardsSmoke(t *testing.T) {
	env := smokeEnv(t, func(o framework.Options) framework.Options { return WithShards(o, 2) },
		"source-controller", "kustomize-controller")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const n = 10
	res, err := Run(ctx, env, Config{N: n, Shards: 2, Timeout: 2 * time.Minute, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res.Shards != 2 || res.Install.SourcesReadySeconds <= 0 || res.Install.KustomizationsReadySeconds <= 0 {
		t.Errorf("result: shards %d, install %+v", res.Shards, res.Install)
	}
	if res.APIRequests.Install.Total() == 0 {
		t.Error("no API requests recorded for the install")
	}
	instances := map[string]bool{}
	for _, c := range res.Controllers {
		instances[c.Name] = true
		// Each instance reconciled its half: its own status patches (or applies).
		if c.PeakRSSBytes < 10<<20 || c.CPUSeconds <= 0 || c.ClientRequests["PATCH"] == 0 {
			t.Errorf("%s did not do its share or its use is missing: rss %d cpu %.2f requests %v", c.Name, c.PeakRSSBytes, c.CPUSeconds, c.ClientRequests)
		}
	}
	for _, want := range []string{"source-controller", "source-controller-shard1", "kustomize-controller", "kustomize-controller-shard1"} {
		if !instances[want] {
			t.Errorf("no result for instance %s (have %v)", want, instances)
		}
	}
	var list kustomizev1.KustomizationList
	if err := env.Client.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	sharded := 0
	for i := range list.Items {
		if list.Items[i].Labels[framework.ShardKeyLabel] == "shard1" {
			sharded++
		}
		if ok, why := framework.Readiness(&list.Items[i]); !ok {
			t.Errorf("Kustomization %s not Ready: %s", list.Items[i].Name, why)
		}
	}
	if len(list.Items) != n || sharded != n/2 {
		t.Errorf("%d Kustomizations, %d of them on shard1; want %d and %d", len(list.Items), sharded, n, n/2)
	}
	js := jsonKeys(t, "bench-10-shards2", res, res.Markdown())
	if js["shards"] != float64(2) {
		t.Errorf("bench-10-shards2.json shards = %v, want 2", js["shards"])
	}
	for _, key := range []string{"install", "apiRequests", "controllers"} {
		if _, ok := js[key]; !ok {
			t.Errorf("bench-10-shards2.json has no %q", key)
		}
	}
	t.Logf("report:\n%s", res.Markdown())
}

func findController(cs []*ControllerResult, name string) *ControllerResult {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}
