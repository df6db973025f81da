package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"gotk.dev/e2e/framework"
)

// Run executes the Mean-Time-To-Production workload of flux-benchmark on env:
//
//  1. once: the namespace, ServiceAccount flux bound to ClusterRole admin, one OCI artifact;
//  2. install: N OCIRepository + Kustomization pairs created by cfg.Workers client workers,
//     timed from the first create until every object is Ready (seen through informers);
//  3. upgrade: MCPU=2m on every Kustomization, timed until all are Ready at the new
//     generation.
//
// Throughout, each controller's RSS is sampled (Options.SampleInterval, 500ms by default),
// and the API server's request counters, the controllers' own client counters and their CPU
// time are read between phases. Without kustomize-controller only the OCIRepositories are
// created and timed (a sources-only run).
func Run(ctx context.Context, env *framework.Env, cfg Config) (*Result, error) {
	cfg.defaults()
	if cfg.Workload == WorkloadHelmRelease {
		return runHelmReleases(ctx, env, cfg)
	}
	if _, err := env.Controller("source-controller"); err != nil {
		return nil, fmt.Errorf("the benchmark needs source-controller: %w", err)
	}
	_, withKs := env.Controllers["kustomize-controller"]
	res := newResult(env, cfg, withKs)

	digest, err := setup(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	res.ArtifactDigest = digest
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the informers
	tr, err := startTracker(ctx, env, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	spans := startSpanCollector(env)
	defer spans.Stop()

	// Install.
	tr.expect("OCIRepository", names(cfg.N))
	if withKs {
		tr.expect("Kustomization", names(cfg.N))
	}
	apiBefore, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	cpuBefore, selfBefore := cpuSeconds(env), selfCPUSeconds()
	cpBefore := env.ControlPlaneCPU()
	clientBefore := env.ClientRequests()
	cfg.Logf("bench: creating %d apps with %d workers", cfg.N, cfg.Workers)
	start := time.Now()
	installMarks := newMarks(start)
	if err := create(ctx, env, cfg, withKs, installMarks); err != nil {
		return nil, err
	}
	res.Install.CreateSeconds = time.Since(start).Seconds()
	progress := func(kind string, start time.Time) func(int, int) {
		return func(done, total int) {
			cfg.Logf("bench: %d/%d %ss Ready after %s", done, total, kind, time.Since(start).Round(time.Second))
		}
	}
	last, err := tr.wait(ctx, "OCIRepository", cfg.Timeout-time.Since(start), progress("OCIRepository", start))
	if err != nil {
		return nil, withLogTail(env, "OCIRepository", err)
	}
	res.Install.SourcesReadySeconds = last.Sub(start).Seconds()
	cfg.Logf("bench: all %d OCIRepositories Ready after %.1fs", cfg.N, res.Install.SourcesReadySeconds)
	if withKs {
		last, err := tr.wait(ctx, "Kustomization", cfg.Timeout-time.Since(start), progress("Kustomization", start))
		if err != nil {
			return nil, withLogTail(env, "Kustomization", err)
		}
		res.Install.KustomizationsReadySeconds = last.Sub(start).Seconds()
		cfg.Logf("bench: all %d Kustomizations Ready after %.1fs", cfg.N, res.Install.KustomizationsReadySeconds)
	}
	apiInstalled, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	res.APIRequests.Install = framework.Diff(apiBefore, apiInstalled)
	installMarks.end = time.Now()
	cpInstalled := env.ControlPlaneCPU()
	res.ControlPlaneCPU = map[string]map[string]float64{"install": cpuDiff(cpBefore, cpInstalled)}
	installMarks.ready["OCIRepository"] = tr.readyTimes("OCIRepository")
	installMarks.ready["Kustomization"] = tr.readyTimes("Kustomization")
	var upgradeMarks *marks
	cpuInstalled, selfInstalled := cpuSeconds(env), selfCPUSeconds()
	res.ClientCPUSeconds = map[string]float64{"install": selfInstalled - selfBefore}
	res.recordPhase(env, "install", cpuBefore, cpuInstalled)

	// Upgrade.
	if withKs && cfg.Upgrade {
		gens, err := tr.generations(ctx, "Kustomization")
		if err != nil {
			return nil, err
		}
		minGen := map[string]int64{}
		for name := range names(cfg.N) {
			minGen[name] = gens[name] + 1
		}
		tr.expect("Kustomization", minGen)
		cfg.Logf("bench: upgrading %d Kustomizations (MCPU=2m)", cfg.N)
		start := time.Now()
		upgradeMarks = newMarks(start)
		if err := upgrade(ctx, env, cfg, upgradeMarks); err != nil {
			return nil, err
		}
		patched := time.Since(start).Seconds()
		last, err := tr.wait(ctx, "Kustomization", cfg.Timeout, progress("upgraded Kustomization", start))
		if err != nil {
			return nil, withLogTail(env, "Kustomization", err)
		}
		res.Upgrade = &Phase{CreateSeconds: patched, KustomizationsReadySeconds: last.Sub(start).Seconds()}
		cfg.Logf("bench: all %d Kustomizations Ready at the new generation after %.1fs", cfg.N, res.Upgrade.KustomizationsReadySeconds)
		if err := checkUpgraded(ctx, env, cfg); err != nil {
			return nil, err
		}
		apiUpgraded, err := env.APIRequests(ctx)
		if err != nil {
			return nil, err
		}
		res.APIRequests.Upgrade = framework.Diff(apiInstalled, apiUpgraded)
		upgradeMarks.end = time.Now()
		res.ControlPlaneCPU["upgrade"] = cpuDiff(cpInstalled, env.ControlPlaneCPU())
		upgradeMarks.ready["Kustomization"] = tr.readyTimes("Kustomization")
		res.recordPhase(env, "upgrade", cpuInstalled, cpuSeconds(env))
		res.ClientCPUSeconds["upgrade"] = selfCPUSeconds() - selfInstalled
	}

	if err := res.finish(ctx, env, cfg, clientBefore, &runTrace{spans: spans, install: installMarks, upgrade: upgradeMarks}); err != nil {
		return nil, err
	}
	return res, nil
}

// runTrace is what a run recorded for its timeline: every reconcile span and when each
// phase's objects were created, changed and seen Ready.
type runTrace struct {
	spans            *spanCollector
	install, upgrade *marks
}

// finish measures the steady state (cfg.Steady) and records each controller's totals over
// the run, the benchmark's own requests and, given a trace, the timeline.
func (r *Result) finish(ctx context.Context, env *framework.Env, cfg Config, clientBefore map[string]int64, trace *runTrace) error {
	if cfg.Steady > 0 && trace != nil {
		var err error
		if r.Steady, err = measureSteady(ctx, env, trace.spans, cfg.Steady, cfg.Interval, cfg.Logf); err != nil {
			return err
		}
	}
	for _, c := range r.Controllers {
		p := env.Controllers[c.Name]
		c.PeakRSSBytes = p.PeakRSS()
		c.CPUSeconds = p.CPUSeconds()
		if reqs, err := p.ClientRequests(ctx); err == nil {
			c.ClientRequests = reqs
		} else {
			cfg.Logf("bench: %v", err)
		}
	}
	if trace != nil {
		r.spans = trace.spans.Spans()
		r.Timeline = buildTimeline(r.spans, trace.install, trace.upgrade, r.concurrency())
		r.Timeline.MissedSpans, r.Timeline.Errors = trace.spans.Missed()
	}
	r.BenchClientRequests = framework.Diff(
		framework.APIRequests{ByVerb: clientBefore}, framework.APIRequests{ByVerb: env.ClientRequests()}).ByVerb
	r.Finished = time.Now().UTC()
	r.LoadAverage.End = framework.LoadAverage()
	return nil
}

// withLogTail adds the last lines of the log of the controller responsible for kind.
func withLogTail(env *framework.Env, kind string, err error) error {
	p, ok := env.Controllers[framework.ControllerFor(kind)]
	if !ok {
		return err
	}
	return fmt.Errorf("%w\nlast lines of %s:\n%s", err, p.Logs, p.LogTail(20))
}

// checkUpgraded spot-checks that the upgrade reached the cluster: the first and the last
// app's Deployment request 2m CPU.
func checkUpgraded(ctx context.Context, env *framework.Env, cfg Config) error {
	for _, i := range []int{0, cfg.N - 1} {
		if err := checkDeploymentCPU(ctx, env, cfg.Namespace, appName(i), "2m"); err != nil {
			return err
		}
	}
	return nil
}

// cpuDiff is after minus before, per process.
func cpuDiff(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for name, v := range after {
		out[name] = v - before[name]
	}
	return out
}

// checkDeploymentCPU checks the CPU request of a Deployment's first container.
func checkDeploymentCPU(ctx context.Context, env *framework.Env, namespace, name, cpu string) error {
	var d appsv1.Deployment
	key := types.NamespacedName{Namespace: namespace, Name: name}
	if err := env.Client.Get(ctx, key, &d); err != nil {
		return fmt.Errorf("upgrade check: Deployment %s: %w", key, err)
	}
	cs := d.Spec.Template.Spec.Containers
	if len(cs) == 0 || cs[0].Resources.Requests.Cpu().String() != cpu {
		return fmt.Errorf("upgrade check: Deployment %s does not request %s CPU after the upgrade: %v", key, cpu, cs)
	}
	return nil
}

func cpuSeconds(env *framework.Env) map[string]float64 {
	out := map[string]float64{}
	for name, p := range env.Controllers {
		out[name] = p.CPUSeconds()
	}
	return out
}

func newResult(env *framework.Env, cfg Config, withKs bool) *Result {
	host, _ := os.Hostname()
	res := &Result{
		N:          cfg.N,
		Workload:   "OCIRepository+Kustomization",
		Namespace:  cfg.Namespace,
		Workers:    cfg.Workers,
		Shards:     cfg.Shards,
		Started:    time.Now().UTC(),
		Host:       Host{Name: host, CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()},
		Deviations: framework.RecordedDeviations(),
	}
	res.LoadAverage.Start = framework.LoadAverage()
	if !withKs {
		res.Workload = "OCIRepository (sources only: kustomize-controller not running)"
	}
	for _, name := range sortedKeys(env.Controllers) {
		p := env.Controllers[name]
		res.Controllers = append(res.Controllers, &ControllerResult{
			Name:         name,
			Bin:          p.Bin,
			Args:         p.Args,
			Concurrent:   flagValue(p.Args, "concurrent"),
			KubeAPIQPS:   flagValue(p.Args, "kube-api-qps"),
			KubeAPIBurst: flagValue(p.Args, "kube-api-burst"),
		})
	}
	return res
}

// recordPhase stores each controller's CPU time in a phase and its peak RSS at the end of it.
func (r *Result) recordPhase(env *framework.Env, phase string, before, after map[string]float64) {
	for _, c := range r.Controllers {
		cpu := after[c.Name] - before[c.Name]
		rss := env.Controllers[c.Name].PeakRSS()
		switch phase {
		case "install":
			c.InstallCPUSeconds, c.InstallPeakRSSBytes = cpu, rss
		case "upgrade":
			c.UpgradeCPUSeconds = cpu
		}
	}
}
