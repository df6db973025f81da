package main

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gotk.dev/e2e/framework"
)

// appManifest is flux-benchmark's application (the podinfo chart 6.5.3 rendered: a
// ServiceAccount, a Service, a Deployment with replicas ${PODS:=0} and a CPU request of
// ${MCPU}, and an Ingress), kept byte-identical to the reference copy in
// ../shared/reference/flux-benchmark/podinfo-app.yaml so results compare with upstream's
// (TestAppManifestMatchesReference checks this when the reference is present).
//
//go:embed testdata/podinfo-app.yaml
var appManifest string

// Workloads the benchmark runs.
const (
	// WorkloadKustomization is flux-benchmark's Kustomization workload: N OCIRepository +
	// Kustomization pairs deploying podinfo.
	WorkloadKustomization = "kustomization"
	// WorkloadHelmRelease is flux-benchmark's HelmRelease workload: N HelmReleases of the
	// podinfo chart, here from one OCIRepository chartRef, with drift detection enabled.
	WorkloadHelmRelease = "helmrelease"
)

// Config is one benchmark run.
type Config struct {
	// N is the number of apps: N OCIRepositories and N Kustomizations, or N HelmReleases.
	N int
	// Workload is WorkloadKustomization (default) or WorkloadHelmRelease.
	Workload string
	// Namespace holds the Flux objects and the apps they deploy.
	Namespace string
	// Workers bounds the benchmark client's concurrent create/patch requests.
	Workers int
	// Upgrade runs the second phase: MCPU=2m on every Kustomization.
	Upgrade bool
	// Timeout bounds each phase (creating until Ready, patching until Ready).
	Timeout time.Duration
	// Interval is every object's spec.interval (flux-benchmark's 60m by default).
	Interval time.Duration
	// Steady, when set, measures the steady state for this long after the last phase.
	Steady time.Duration
	// Shards is how many instances of each sharded controller run (Sharded): the primary and
	// Shards-1 shard instances. App i goes to instance i mod Shards (label
	// sharding.fluxcd.io/key=shard<i mod Shards> on its objects, none for the primary's).
	// 0 or 1: no sharding.
	Shards int
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

func (c *Config) defaults() {
	if c.N <= 0 {
		c.N = 100
	}
	if c.Namespace == "" {
		c.Namespace = "apps"
	}
	if c.Workers <= 0 {
		c.Workers = 20
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Minute
	}
	if c.Interval <= 0 {
		c.Interval = 60 * time.Minute
	}
	if c.Workload == "" {
		c.Workload = WorkloadKustomization
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Tuning is the controller tuning of a run. The defaults are flux-benchmark's: upstream
// benchmarks Flux with source-controller --concurrent=10 and kustomize-controller
// --concurrent=20, and the API client limits Flux's vertical-scaling guide recommends for
// large fleets (--kube-api-qps=500 --kube-api-burst=1000) with --requeue-dependency=5s, and
// helm-controller --concurrent=10.
// Every value used is recorded with the result (ControllerResult.Args).
type Tuning struct {
	SourceConcurrent    int
	KustomizeConcurrent int
	HelmConcurrent      int
	KubeAPIQPS          int
	KubeAPIBurst        int
	RequeueDependency   time.Duration
}

// UpstreamTuning is flux-benchmark's tuning, the default.
func UpstreamTuning() Tuning {
	return Tuning{SourceConcurrent: 10, KustomizeConcurrent: 20, HelmConcurrent: 10, KubeAPIQPS: 500, KubeAPIBurst: 1000, RequeueDependency: 5 * time.Second}
}

// args are the tuning flags of one controller; zero values are left to the controller's
// defaults.
func (t Tuning) args(controller string) []string {
	var args []string
	switch controller {
	case "source-controller":
		if t.SourceConcurrent > 0 {
			args = append(args, fmt.Sprintf("--concurrent=%d", t.SourceConcurrent))
		}
	case "kustomize-controller":
		if t.KustomizeConcurrent > 0 {
			args = append(args, fmt.Sprintf("--concurrent=%d", t.KustomizeConcurrent))
		}
	case "helm-controller":
		if t.HelmConcurrent > 0 {
			args = append(args, fmt.Sprintf("--concurrent=%d", t.HelmConcurrent))
		}
	}
	if t.KubeAPIQPS > 0 {
		args = append(args, fmt.Sprintf("--kube-api-qps=%d", t.KubeAPIQPS))
	}
	if t.KubeAPIBurst > 0 {
		args = append(args, fmt.Sprintf("--kube-api-burst=%d", t.KubeAPIBurst))
	}
	if t.RequeueDependency > 0 {
		args = append(args, "--requeue-dependency="+t.RequeueDependency.String())
	}
	return args
}

// Apply puts the tuning flags before the controllers' own extra arguments (which therefore
// win, e.g. GOTK_E2E_KUSTOMIZE_CONTROLLER_ARGS=--concurrent=4).
func (t Tuning) Apply(opts framework.Options) framework.Options {
	out := opts
	out.Controllers = nil
	for _, c := range opts.Controllers {
		c.Args = append(t.args(c.Name), c.Args...)
		out.Controllers = append(out.Controllers, c)
	}
	return out
}

// flagValue is the value the controller ends up with for --name: the last occurrence in
// args, or "default".
func flagValue(args []string, name string) string {
	v := "default"
	for _, a := range args {
		if rest, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			v = rest
		}
	}
	return v
}

// shardOf is the sharding.fluxcd.io/key of app i's objects ("" for the primary instance).
func (c Config) shardOf(i int) string {
	if c.Shards <= 1 || i%c.Shards == 0 {
		return ""
	}
	return "shard" + strconv.Itoa(i%c.Shards)
}

// shardLabels are the labels of app i's Flux objects.
func (c Config) shardLabels(i int) map[string]string {
	if s := c.shardOf(i); s != "" {
		return map[string]string{framework.ShardKeyLabel: s}
	}
	return nil
}

// Sharded are the controllers the benchmark runs one instance of per shard, as `flux install
// --shards` does.
func Sharded() []string {
	return []string{"source-controller", "kustomize-controller", "helm-controller"}
}

// WithShards runs n instances of each sharded controller in opts: the primary, selecting
// objects without a shard key, and n-1 shard instances.
func WithShards(opts framework.Options, n int) framework.Options {
	if n <= 1 {
		return opts
	}
	var out []framework.ControllerOptions
	for _, c := range opts.Controllers {
		if !slices.Contains(Sharded(), c.Name) {
			out = append(out, c)
			continue
		}
		shardArgs := append([]string{}, c.Args...)
		c.Args = append([]string{"--watch-label-selector=!" + framework.ShardKeyLabel}, c.Args...)
		out = append(out, c)
		for i := 1; i < n; i++ {
			out = append(out, framework.ControllerOptions{Name: c.Name, Bin: c.Bin, Args: shardArgs, Shard: "shard" + strconv.Itoa(i)})
		}
	}
	opts.Controllers = out
	return opts
}
