package main

import (
	"context"
	"fmt"
	"time"

	"gotk.dev/e2e/framework"
)

// runHelmReleases executes flux-benchmark's HelmRelease workload on env:
//
//  1. once: the namespace, ServiceAccount flux bound to ClusterRole admin, the podinfo chart
//     in the registry and one OCIRepository of it (Ready before the clock starts);
//  2. install: N HelmReleases created by cfg.Workers client workers, timed from the first
//     create until every HelmRelease is Ready (installed, its objects healthy);
//  3. upgrade: the CPU request set to 2m in every HelmRelease's values, timed until all are
//     Ready at the new generation (upgraded).
//
// Drift detection is enabled on every HelmRelease, so every in-sync reconcile also
// compares the release's objects with the cluster.
func runHelmReleases(ctx context.Context, env *framework.Env, cfg Config) (*Result, error) {
	if _, err := env.Controller("helm-controller"); err != nil {
		return nil, fmt.Errorf("the HelmRelease workload needs helm-controller: %w", err)
	}
	res := newResult(env, cfg, false)
	res.Workload = "HelmRelease (chartRef: one OCIRepository, driftDetection: enabled)"
	digest, err := setupHelm(ctx, env, cfg)
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
	progress := func(what string, start time.Time) func(int, int) {
		return func(done, total int) {
			cfg.Logf("bench: %d/%d %s Ready after %s", done, total, what, time.Since(start).Round(time.Second))
		}
	}

	tr.expect("HelmRelease", names(cfg.N))
	apiBefore, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	cpuBefore, clientBefore := cpuSeconds(env), env.ClientRequests()
	cfg.Logf("bench: creating %d HelmReleases with %d workers", cfg.N, cfg.Workers)
	start := time.Now()
	if err := createHelm(ctx, env, cfg); err != nil {
		return nil, err
	}
	res.Install.CreateSeconds = time.Since(start).Seconds()
	last, err := tr.wait(ctx, "HelmRelease", cfg.Timeout, progress("HelmReleases", start))
	if err != nil {
		return nil, withLogTail(env, "HelmRelease", err)
	}
	res.Install.HelmReleasesReadySeconds = last.Sub(start).Seconds()
	cfg.Logf("bench: all %d HelmReleases Ready after %.1fs", cfg.N, res.Install.HelmReleasesReadySeconds)
	apiInstalled, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	res.APIRequests.Install = framework.Diff(apiBefore, apiInstalled)
	cpuInstalled := cpuSeconds(env)
	res.recordPhase(env, "install", cpuBefore, cpuInstalled)

	if cfg.Upgrade {
		gens, err := tr.generations(ctx, "HelmRelease")
		if err != nil {
			return nil, err
		}
		minGen := map[string]int64{}
		for name := range names(cfg.N) {
			minGen[name] = gens[name] + 1
		}
		tr.expect("HelmRelease", minGen)
		cfg.Logf("bench: upgrading %d HelmReleases (cpu request 2m)", cfg.N)
		start := time.Now()
		if err := upgradeHelm(ctx, env, cfg); err != nil {
			return nil, err
		}
		patched := time.Since(start).Seconds()
		last, err := tr.wait(ctx, "HelmRelease", cfg.Timeout, progress("upgraded HelmReleases", start))
		if err != nil {
			return nil, withLogTail(env, "HelmRelease", err)
		}
		res.Upgrade = &Phase{CreateSeconds: patched, HelmReleasesReadySeconds: last.Sub(start).Seconds()}
		cfg.Logf("bench: all %d HelmReleases Ready at the new generation after %.1fs", cfg.N, res.Upgrade.HelmReleasesReadySeconds)
		if err := checkHelmUpgraded(ctx, env, cfg); err != nil {
			return nil, err
		}
		apiUpgraded, err := env.APIRequests(ctx)
		if err != nil {
			return nil, err
		}
		res.APIRequests.Upgrade = framework.Diff(apiInstalled, apiUpgraded)
		res.recordPhase(env, "upgrade", cpuInstalled, cpuSeconds(env))
	}
	res.finish(ctx, env, cfg, clientBefore)
	return res, nil
}
