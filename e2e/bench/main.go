// Command bench is the Mean-Time-To-Production benchmark: it reproduces flux-benchmark's
// Kustomization workload (N OCIRepository + Kustomization pairs deploying podinfo, then an
// upgrade of all of them) on a local cluster and reports how long the controllers took,
// their peak memory and CPU time, and the API requests made.
//
//	go run ./e2e/bench --n 100,500,1000
//	go run ./e2e/bench --workload helmrelease --n 100
//	go run ./e2e/bench --workload helmcharts --n 1000
//	go run ./e2e/bench --mode webhook --pushes 30
//	go run ./e2e/bench --n 1000 --upstream
//	go run ./e2e/bench --mode apicost --n 1000
//
// The helmrelease workload is flux-benchmark's HelmRelease one (N HelmReleases of podinfo);
// the helmcharts workload measures source-controller alone building N HelmCharts.
// The webhook mode measures push to applied instead: one commit at a time, a generic-hmac
// Receiver's webhook as the only trigger, until the changed object is in the cluster
// (e2e/results/webhook.json and .md); it runs notification-controller as well.
//
// Results go to e2e/results/bench-<N>.json and .md (git-ignored) and the table is printed.
// Which controllers run, and from which binaries, follows the framework's environment
// variables (GOTK_E2E_CONTROLLERS, GOTK_E2E_<NAME>_BIN, GOTK_E2E_<NAME>_ARGS), so the same
// benchmark measures any controllers that speak the Flux API; --controllers overrides the
// list. --upstream runs the same workload again with upstream Flux's source- and
// kustomize-controller (built by `make testbin-upstream`) and reports ours / upstream.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gotk.dev/internal/testing/workspace"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"gotk.dev/e2e/framework"
)

func main() {
	// The informers log through controller-runtime's logger; their messages (watch restarts)
	// are not benchmark output.
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// flags are the command line of the benchmark.
type flags struct {
	workload    string
	helmCache   int
	ns          []int
	controllers string
	tuning      Tuning
	cfg         Config
	out         string
	keep        bool
	nodes       int
	mode        string
	pushes      int
	settle      time.Duration
	floor       bool
	spokes      int
	upstream    bool
	upstreamDir string
}

func parseFlags(args []string) (*flags, error) {
	f := &flags{tuning: UpstreamTuning()}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	n := fs.String("n", "100", "number of apps (OCIRepository + Kustomization pairs, or HelmCharts); a comma-separated list runs each on a fresh cluster, e.g. 100,500,1000")
	fs.StringVar(&f.workload, "workload", WorkloadKustomization, "what to run: "+WorkloadKustomization+" (N OCIRepository + Kustomization pairs, then an upgrade), "+
		WorkloadHelmRelease+" (N HelmReleases of the podinfo chart, then an upgrade; runs source-controller and helm-controller unless --controllers says otherwise) or "+
		workloadHelmCharts+" (N HelmCharts over one HTTP and one OCI Helm repository, source-controller only)")
	fs.IntVar(&f.helmCache, "helm-cache-max-size", 10, "source-controller --helm-cache-max-size in the "+workloadHelmCharts+" workload (upstream's recommended 10; 0 disables the index cache)")
	fs.StringVar(&f.controllers, "controllers", "", "comma-separated controllers to run (default $"+framework.EnvControllers+", else "+framework.DefaultControllers+")")
	fs.IntVar(&f.tuning.SourceConcurrent, "source-concurrent", f.tuning.SourceConcurrent, "source-controller --concurrent (0: the controller's default)")
	fs.IntVar(&f.tuning.KustomizeConcurrent, "kustomize-concurrent", f.tuning.KustomizeConcurrent, "kustomize-controller --concurrent (0: the controller's default)")
	fs.IntVar(&f.tuning.HelmConcurrent, "helm-concurrent", f.tuning.HelmConcurrent, "helm-controller --concurrent (0: the controller's default)")
	fs.IntVar(&f.tuning.KubeAPIQPS, "kube-api-qps", f.tuning.KubeAPIQPS, "--kube-api-qps of every controller (0: the controller's default)")
	fs.IntVar(&f.tuning.KubeAPIBurst, "kube-api-burst", f.tuning.KubeAPIBurst, "--kube-api-burst of every controller (0: the controller's default)")
	fs.DurationVar(&f.tuning.RequeueDependency, "requeue-dependency", f.tuning.RequeueDependency, "--requeue-dependency of every controller (0: the controller's default)")
	fs.IntVar(&f.cfg.Workers, "workers", 20, "concurrent create/patch requests of the benchmark client")
	fs.BoolVar(&f.cfg.Upgrade, "upgrade", true, "also run the upgrade phase (MCPU=2m on every Kustomization)")
	fs.DurationVar(&f.cfg.Timeout, "timeout", 30*time.Minute, "bound of each phase")
	fs.StringVar(&f.cfg.Namespace, "namespace", "apps", "namespace of the Flux objects and the apps")
	fs.StringVar(&f.out, "out", "", "results directory (default <repo>/e2e/results)")
	fs.BoolVar(&f.keep, "keep", false, "keep the environment's state directory (also $"+framework.EnvKeep+")")
	fs.IntVar(&f.nodes, "nodes", 1, "kwok nodes")
	fs.StringVar(&f.mode, "mode", "mttp", "mttp (the MTTP workload of --n apps), webhook (push to applied through a Receiver, --pushes times), hubspoke (a hub applying --n apps to each of --spokes spoke clusters through spec.kubeConfig) "+
		"or apicost (kube-apiserver and etcd CPU per request of each class a Flux reconcile sends, --n of each, on a cluster without controllers)")
	fs.DurationVar(&f.settle, "settle", 3*time.Second, "pause after each request class in --mode apicost, counted with it")
	fs.IntVar(&f.pushes, "pushes", 30, "pushes measured in --mode webhook")
	fs.DurationVar(&f.cfg.Steady, "steady", 0, "after the last phase, measure the steady state (CPU, API requests, reconciles with nothing changing) for this long (0: not at all)")
	fs.DurationVar(&f.cfg.Interval, "interval", 0, "spec.interval of every object (default 60m as flux-benchmark, or --steady when that is set, so every object reconciles about once in the window)")
	fs.BoolVar(&f.floor, "floor", true, "also run the floor (the same work with a plain client on a fresh cluster) and the Flux floor (that plus the API writes of any upstream-compatible Flux: its objects' finalizers, statuses and events), each on a fresh cluster, and report ours as a multiple of them")
	fs.BoolVar(&f.upstream, "upstream", false, "also run the same workload with upstream Flux's source-controller and kustomize-controller "+
		UpstreamVersion+" (built into --upstream-bin by `make testbin-upstream`) on a fresh cluster with the same tuning, and report ours / upstream")
	fs.StringVar(&f.upstreamDir, "upstream-bin", "", "directory of upstream's builds, <name>-<version> (default <repo>/bin/upstream)")
	fs.IntVar(&f.spokes, "spokes", 2, "spoke clusters in --mode hubspoke")
	fs.IntVar(&f.cfg.Shards, "shards", 1, "instances of source-, kustomize- and helm-controller: the primary (--watch-label-selector=!"+framework.ShardKeyLabel+") and shards-1 shard instances, the apps spread evenly over them by the "+framework.ShardKeyLabel+" label (kustomization workload)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.cfg.Interval <= 0 && f.cfg.Steady > 0 {
		f.cfg.Interval = f.cfg.Steady
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if f.mode != "mttp" && f.mode != "webhook" && f.mode != "hubspoke" && f.mode != modeAPICost {
		return nil, fmt.Errorf("--mode %q: want mttp, webhook, hubspoke or %s", f.mode, modeAPICost)
	}
	if f.spokes < 1 {
		return nil, fmt.Errorf("--spokes %d: want at least 1", f.spokes)
	}
	if f.cfg.Shards < 1 || (f.cfg.Shards > 1 && (f.mode != "mttp" || f.workload != WorkloadKustomization)) {
		return nil, fmt.Errorf("--shards %d: want 1, or more with the %s workload in mttp mode", f.cfg.Shards, WorkloadKustomization)
	}
	if f.pushes < 1 {
		return nil, fmt.Errorf("--pushes %d: want at least 1", f.pushes)
	}
	if f.workload == "apps" { // the flag's name before the HelmRelease workload existed
		f.workload = WorkloadKustomization
	}
	switch f.workload {
	case WorkloadKustomization:
	case WorkloadHelmRelease:
		if f.controllers == "" {
			f.controllers = "source-controller,helm-controller"
		}
	case workloadHelmCharts:
	default:
		return nil, fmt.Errorf("--workload %q: want %s, %s or %s", f.workload, WorkloadKustomization, WorkloadHelmRelease, workloadHelmCharts)
	}
	if f.mode == "webhook" {
		if f.workload != WorkloadKustomization {
			return nil, fmt.Errorf("--mode webhook measures pushes to applied Kustomizations; it does not combine with --workload %s", f.workload)
		}
		if f.controllers == "" {
			f.controllers = "source-controller,kustomize-controller,notification-controller"
		}
	}
	if f.workload != workloadHelmCharts {
		f.cfg.Workload = f.workload
	}
	if f.upstream && (f.mode != "mttp" || f.workload != WorkloadKustomization || f.cfg.Shards > 1) {
		return nil, errUpstreamFlags
	}
	for _, s := range strings.Split(*n, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("--n %q: want positive numbers separated by commas", *n)
		}
		f.ns = append(f.ns, v)
	}
	return f, nil
}

// envOptions builds the framework options: controllers from the environment (or
// --controllers), then the tuning flags in front of each controller's own extra arguments.
func (f *flags) envOptions() (framework.Options, error) {
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		return opts, err
	}
	if f.controllers != "" {
		names, err := framework.ParseControllerList(f.controllers)
		if err != nil {
			return opts, fmt.Errorf("--controllers: %w", err)
		}
		opts.Controllers = nil
		for _, name := range names {
			opts.Controllers = append(opts.Controllers, framework.ControllerFromEnv(name, nil))
		}
	}
	opts.Keep = opts.Keep || f.keep
	opts.Nodes = f.nodes
	return WithShards(f.tuning.Apply(opts), f.cfg.Shards), nil
}

func run(ctx context.Context, args []string) error {
	f, err := parseFlags(args)
	if err != nil {
		return err
	}
	opts, err := f.envOptions()
	if err != nil {
		return err
	}
	if f.out == "" || (f.upstream && f.upstreamDir == "") {
		root, err := workspace.Root()
		if err != nil {
			return err
		}
		if f.out == "" {
			f.out = filepath.Join(root, "e2e", "results")
		}
		if f.upstreamDir == "" {
			f.upstreamDir = filepath.Join(root, "bin", "upstream")
		}
	}
	if f.upstream { // fail before the long runs when upstream's builds are missing
		if _, err := upstreamOptions(opts, f.upstreamDir); err != nil {
			return err
		}
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	opts.Logf = logf
	bins := framework.NewBinaries("")
	defer bins.Remove()
	opts.Binaries = bins
	if f.mode == "webhook" {
		return runWebhook(ctx, opts, f, logf)
	}
	if f.mode == "hubspoke" {
		return runHubSpoke(ctx, opts, f, logf)
	}
	if f.mode == modeAPICost {
		return runAPICost(ctx, opts, f, logf)
	}
	if f.workload == workloadHelmCharts {
		return runHelmChartsWorkload(ctx, f, opts, logf)
	}
	for _, n := range f.ns {
		cfg := f.cfg
		cfg.N, cfg.Logf = n, logf
		res, err := runOne(ctx, opts, cfg)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		if f.floor {
			if err := addFloor(ctx, opts, cfg, f.tuning, res); err != nil {
				return fmt.Errorf("N=%d: %w", n, err)
			}
			if cfg.Workload == WorkloadKustomization {
				if err := addFluxFloor(ctx, opts, cfg, f.tuning, res); err != nil {
					return fmt.Errorf("N=%d: %w", n, err)
				}
			}
		}
		var upPaths []string
		if f.upstream {
			if upPaths, err = addUpstream(ctx, opts, cfg, f.upstreamDir, f.out, res); err != nil {
				return fmt.Errorf("N=%d: %w", n, err)
			}
		}
		if err := printResult(f.out, res, upPaths...); err != nil {
			return err
		}
	}
	return nil
}

// workloadHelmCharts is the HelmChart workload (source-controller alone); the others are in
// config.go.
const workloadHelmCharts = "helmcharts"

// runHelmChartsWorkload runs the HelmChart workload for each N over an HTTP and an OCI repository, each on
// a fresh environment with source-controller alone (with the index cache flags upstream
// recommends).
func runHelmChartsWorkload(ctx context.Context, f *flags, opts framework.Options, logf func(string, ...any)) error {
	opts = opts.WithControllers("source-controller")
	for i := range opts.Controllers {
		opts.Controllers[i].Args = append([]string{fmt.Sprintf("--helm-cache-max-size=%d", f.helmCache),
			"--helm-cache-ttl=60m", "--helm-cache-purge-interval=5m"}, opts.Controllers[i].Args...)
	}
	for _, n := range f.ns {
		for _, kind := range []string{helmHTTP, helmOCI} {
			var res *HelmResult
			if err := onFreshCluster(ctx, opts, fmt.Sprintf("N=%d %s", n, kind), func(env *framework.Env) (err error) {
				res, err = RunHelmCharts(ctx, env, HelmConfig{N: n, Repository: kind, Namespace: f.cfg.Namespace,
					Workers: f.cfg.Workers, Timeout: f.cfg.Timeout, Logf: logf})
				return err
			}); err != nil {
				return err
			}
			if err := printResult(f.out, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// modeAPICost measures the control plane's CPU per request class (apicost.go).
const modeAPICost = "apicost"

// runAPICost runs --mode apicost for each N on a fresh cluster with the CRDs and no controllers.
func runAPICost(ctx context.Context, opts framework.Options, f *flags, logf func(string, ...any)) error {
	for _, n := range f.ns {
		var res *APICostResult
		if err := onFreshCluster(ctx, opts.WithControllers(), fmt.Sprintf("N=%d", n), func(env *framework.Env) (err error) {
			res, err = RunAPICost(ctx, env, APICostConfig{N: n, Workers: f.cfg.Workers, Namespace: f.cfg.Namespace, Settle: f.settle, Logf: logf})
			return err
		}); err != nil {
			return err
		}
		if err := printResult(f.out, res); err != nil {
			return err
		}
	}
	return nil
}

// onFreshCluster starts a fresh environment with opts, runs run on it and stops it. When run
// fails, every process's logs are kept and the error names their directory, after what (a
// prefix naming the run; empty for none).
func onFreshCluster(ctx context.Context, opts framework.Options, what string, run func(*framework.Env) error) error {
	env, err := framework.Start(ctx, opts)
	if err != nil {
		return err
	}
	if err := run(env); err != nil {
		if what != "" {
			err = fmt.Errorf("%s: %w", what, err)
		}
		logs, stopErr := env.StopFailed()
		return errors.Join(fmt.Errorf("%w\n(logs of every process kept in %s)", err, logs), stopErr)
	}
	return env.Stop()
}

// runOne runs the benchmark on a fresh environment; a failed run keeps every log.
func runOne(ctx context.Context, opts framework.Options, cfg Config) (res *Result, err error) {
	err = onFreshCluster(ctx, opts, "", func(env *framework.Env) (err error) {
		res, err = Run(ctx, env, cfg)
		return err
	})
	return res, err
}

// runWebhook runs the webhook mode on a fresh environment (notification-controller among
// the controllers unless --controllers says otherwise).
func runWebhook(ctx context.Context, opts framework.Options, f *flags, logf func(string, ...any)) error {
	var res *WebhookResult
	if err := onFreshCluster(ctx, opts, "", func(env *framework.Env) (err error) {
		res, err = RunWebhook(ctx, env, f.pushes, logf)
		return err
	}); err != nil {
		return err
	}
	if err := printResult(f.out, res); err != nil {
		return err
	}
	return nil
}

// result is what each mode reports.
type result interface {
	Write(dir string) ([]string, error)
	Markdown() string
}

// printResult writes res into dir and prints it with the files written (and also, files
// written before).
func printResult(dir string, res result, also ...string) error {
	paths, err := res.Write(dir)
	if err != nil {
		return err
	}
	fmt.Println(res.Markdown())
	fmt.Printf("written: %s\n\n", strings.Join(append(paths, also...), ", "))
	return nil
}
