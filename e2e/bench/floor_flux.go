package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// The Flux floor is the plain floor's work plus the API writes any upstream-compatible Flux
// must make per app, made by a plain client on a fresh cluster with the Flux CRDs and no
// controllers, in the order the controllers make them:
//
//   - the benchmark's own requests: POST OCIRepository and POST Kustomization (cfg.Workers
//     workers, the same objects as the workload), and in the upgrade the Kustomization spec
//     merge patch;
//   - source-controller (sourceWorkers): finalizer merge patch on the OCIRepository, pull the
//     artifact (as the plain floor), status merge patch (artifact, ArtifactInStorage, Ready),
//     Event NewArtifact;
//   - kustomize-controller (applyWorkers): finalizer merge patch on the Kustomization, server-
//     side apply of the four objects impersonating the ServiceAccount, Event Progressing (the
//     change set); then, once the Deployment is Current, status merge patch (inventory,
//     revisions, Healthy, Ready, history) and Event ReconciliationSucceeded.
//
// A phase ends when the last Kustomization's Ready status patch returned. What the Flux floor
// leaves out is the controllers' own cost (watches and their fan-out, reading the source,
// building, queueing): "ours / Flux floor" is the part of our time that is ours alone.
func addFluxFloor(ctx context.Context, opts framework.Options, cfg Config, t Tuning, res *Result) error {
	cfg.defaults()
	return onFreshCluster(ctx, opts.WithControllers(), "Flux floor", func(env *framework.Env) (err error) {
		res.FluxFloor, err = RunFluxFloor(ctx, env, cfg, max(t.SourceConcurrent, 1), max(t.KustomizeConcurrent, 1))
		return err
	})
}

// fluxFloorApp is one app's objects as the Flux floor last wrote them.
type fluxFloorApp struct {
	oci      *sourcev1.OCIRepository
	ks       *kustomizev1.Kustomization
	manifest []byte
	objs     []*unstructured.Unstructured
	started  time.Time // the reconcile's start, for the events' and history's durations
}

// fluxFloor is one run's shared state.
type fluxFloor struct {
	env      *framework.Env
	cfg      Config
	sa       client.Client // impersonates the Kustomizations' ServiceAccount
	revision string
	apps     []fluxFloorApp
	w        *deploymentWatch
	ready    <-chan string
	mu       sync.Mutex
	stages   stageSet
	// lastApplied and lastDone are when the phase's last apply returned and its last
	// Kustomization was Ready.
	lastApplied, lastDone time.Time
}

func (f *fluxFloor) add(name string, d time.Duration) {
	f.mu.Lock()
	f.stages.add(name, d)
	f.mu.Unlock()
}

// RunFluxFloor runs the Flux floor workload of cfg on env (which needs the CRDs and no
// controllers).
func RunFluxFloor(ctx context.Context, env *framework.Env, cfg Config, sourceWorkers, applyWorkers int) (*FloorResult, error) {
	cfg.defaults()
	digest, err := setup(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := startDeploymentWatch(ctx, env, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	sa, err := impersonating(env, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	ociClient, err := oci.NewClient(oci.ClientOptions{Insecure: true, UserAgent: floorFieldOwner})
	if err != nil {
		return nil, err
	}
	f := &fluxFloor{env: env, cfg: cfg, sa: sa, revision: fluxRevision(digest), apps: make([]fluxFloorApp, cfg.N), w: w,
		ready: w.notifyReady(cfg.N)}
	out := &FloorResult{Started: time.Now().UTC(), SourceWorkers: sourceWorkers, ApplyWorkers: applyWorkers, LoadAverage: framework.LoadAverage()}
	m, err := startMeter(ctx, env)
	if err != nil {
		return nil, err
	}
	cfg.Logf("Flux floor: creating %d apps (%d workers), sources on %d workers, Kustomizations on %d", cfg.N, cfg.Workers, sourceWorkers, applyWorkers)
	install, err := f.phase(ctx, func(ctx context.Context, g *errgroup.Group) {
		created, sourced := make(chan int, cfg.N), make(chan int, cfg.N)
		g.Go(func() error {
			defer close(created)
			return forEach(ctx, cfg.N, cfg.Workers, func(ctx context.Context, i int) error { return f.create(ctx, i, created) })
		})
		g.Go(func() error {
			defer close(sourced)
			return forEachFrom(ctx, created, sourceWorkers, func(ctx context.Context, i int) error { return f.source(ctx, ociClient, i, sourced) })
		})
		g.Go(func() error {
			return forEachFrom(ctx, sourced, applyWorkers, func(ctx context.Context, i int) error { return f.apply(ctx, i, true) })
		})
		g.Go(func() error { return f.finish(ctx, applyWorkers) })
	})
	if err != nil {
		return nil, err
	}
	out.Install = *install
	cfg.Logf("Flux floor: all %d Kustomizations Ready after %.1fs", cfg.N, out.Install.ReadySeconds)
	if out.APIRequests.Install, err = m.phase(ctx, "install"); err != nil {
		return nil, err
	}
	out.ControlPlaneCPU, out.ClientCPUSeconds = m.cpu, m.self
	if !cfg.Upgrade {
		return out, nil
	}
	out.Upgrade, err = f.phase(ctx, func(ctx context.Context, g *errgroup.Group) {
		patched := make(chan int, cfg.N)
		g.Go(func() error {
			defer close(patched)
			return forEach(ctx, cfg.N, cfg.Workers, func(ctx context.Context, i int) error { return f.patchSpec(ctx, i, patched) })
		})
		g.Go(func() error {
			return forEachFrom(ctx, patched, applyWorkers, func(ctx context.Context, i int) error { return f.apply(ctx, i, false) })
		})
		g.Go(func() error { return f.finish(ctx, applyWorkers) })
	})
	if err != nil {
		return nil, err
	}
	cfg.Logf("Flux floor: all %d Kustomizations Ready at the new generation after %.1fs", cfg.N, out.Upgrade.ReadySeconds)
	out.APIRequests.Upgrade, err = m.phase(ctx, "upgrade")
	return out, err
}

// phase runs one phase's pipeline (started on g by run) within cfg.Timeout and returns its
// times: from its start until the last apply returned and the last Kustomization was Ready.
func (f *fluxFloor) phase(ctx context.Context, run func(ctx context.Context, g *errgroup.Group)) (*FloorPhase, error) {
	f.w.reset()
	f.stages, f.lastApplied, f.lastDone = stageSet{}, time.Time{}, time.Time{}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	run(gctx, g)
	if err := g.Wait(); err != nil {
		return nil, err
	}
	f.w.stages(&f.stages, "applied → Current")
	return &FloorPhase{ReadySeconds: f.lastDone.Sub(start).Seconds(), AppliedSeconds: f.lastApplied.Sub(start).Seconds(),
		Stages: f.stages.stages()}, nil
}

// create is the benchmark's POST of app i's OCIRepository and Kustomization.
func (f *fluxFloor) create(ctx context.Context, i int, created chan<- int) error {
	a := &f.apps[i]
	a.oci, a.ks = ociRepository(f.env, f.cfg, i), kustomization(f.cfg, i)
	a.started = time.Now()
	if err := f.env.Client.Create(ctx, a.oci); err != nil {
		return fmt.Errorf("create OCIRepository %s/%s: %w", f.cfg.Namespace, a.oci.Name, err)
	}
	if err := f.env.Client.Create(ctx, a.ks); err != nil {
		return fmt.Errorf("create Kustomization %s/%s: %w", f.cfg.Namespace, a.ks.Name, err)
	}
	created <- i
	return nil
}

// source is source-controller's reconcile of app i's OCIRepository.
func (f *fluxFloor) source(ctx context.Context, c *oci.Client, i int, sourced chan<- int) error {
	a := &f.apps[i]
	f.add("created → source reconcile", time.Since(a.started))
	t0 := time.Now()
	if err := addFinalizer(ctx, f.env.Client, a.oci); err != nil {
		return err
	}
	m, err := pullManifest(ctx, c, f.env, i)
	if err != nil {
		return err
	}
	a.manifest = m
	base := a.oci.DeepCopy()
	setSourceReady(a.oci, f.revision, m)
	if err := patchStatus(ctx, f.env.Client, base, a.oci); err != nil {
		return err
	}
	if err := newArtifactEvent(ctx, f.env.Client, a.oci); err != nil {
		return err
	}
	f.add("source reconcile (finalizer, pull, status, event)", time.Since(t0))
	a.started = time.Now()
	sourced <- i
	return nil
}

// apply is the first half of kustomize-controller's reconcile of app i (install: with the
// finalizer): apply the objects and post the change set; the watch hands the app to finish
// once its Deployment is Current.
func (f *fluxFloor) apply(ctx context.Context, i int, install bool) error {
	a := &f.apps[i]
	f.add("source Ready (or spec patched) → apply started", time.Since(a.started))
	a.started = time.Now()
	if install {
		if err := addFinalizer(ctx, f.env.Client, a.ks); err != nil {
			return err
		}
	}
	mcpu := "1m"
	if !install {
		mcpu = "2m"
	}
	objs, err := renderApp(a.manifest, f.cfg.Namespace, i, mcpu)
	if err != nil {
		return err
	}
	if err := fluxApply(ctx, f.sa, objs, a.ks); err != nil {
		return err
	}
	a.objs = objs
	if err := changeSetEvent(ctx, f.env.Client, a.ks, f.revision, changeSetMessage(objs, install)); err != nil {
		return err
	}
	stage := "apply (4 objects, event)"
	if install {
		stage = "apply (finalizer, 4 objects, event)"
	}
	f.mu.Lock()
	f.stages.add(stage, time.Since(a.started))
	f.lastApplied = later(f.lastApplied, time.Now())
	f.mu.Unlock()
	gen, err := deploymentGeneration(objs, i)
	if err != nil {
		return err
	}
	f.w.expect(appName(i), gen)
	return nil
}

// finish is the second half of kustomize-controller's reconcile, for each app whose
// Deployment turned Current: the Ready status and the ReconciliationSucceeded event.
func (f *fluxFloor) finish(ctx context.Context, workers int) error {
	names := make(chan int, f.cfg.N)
	go func() {
		defer close(names)
		for range f.cfg.N {
			select {
			case name := <-f.ready:
				i, err := strconv.Atoi(strings.TrimPrefix(name, "podinfo-"))
				if err == nil && i >= 0 && i < len(f.apps) {
					names <- i
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	err := forEachFrom(ctx, names, workers, func(ctx context.Context, i int) error {
		a := &f.apps[i]
		t0 := time.Now()
		base := a.ks.DeepCopy()
		setKustomizationReady(a.ks, f.revision, a.objs, time.Since(a.started))
		if err := patchStatus(ctx, f.env.Client, base, a.ks); err != nil {
			return err
		}
		if err := finishedEvent(ctx, f.env.Client, a.ks, time.Since(a.started)); err != nil {
			return err
		}
		f.mu.Lock()
		f.stages.add("Current → Ready (status, event)", time.Since(t0))
		f.lastDone = later(f.lastDone, time.Now())
		f.mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := f.w.wait(ctx, f.cfg.N, f.cfg.Timeout); err != nil {
		return err
	}
	return ctx.Err()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// patchSpec is the benchmark's upgrade of app i: MCPU=2m by a merge patch on the spec.
func (f *fluxFloor) patchSpec(ctx context.Context, i int, patched chan<- int) error {
	a := &f.apps[i]
	a.started = time.Now()
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"postBuild":{"substitute":{"MCPU":"2m"}}}}`))
	if err := f.env.Client.Patch(ctx, a.ks, patch); err != nil {
		return fmt.Errorf("patch Kustomization %s/%s: %w", f.cfg.Namespace, a.ks.Name, err)
	}
	patched <- i
	return nil
}

// meter reads the API server's request counters and the control plane's CPU between phases.
type meter struct {
	env *framework.Env
	api framework.APIRequests
	cp  map[string]float64
	// cpu is each phase's control plane CPU seconds by process, self the benchmark
	// process's own.
	cpu       map[string]map[string]float64
	self      map[string]float64
	selfStart float64
}

func startMeter(ctx context.Context, env *framework.Env) (*meter, error) {
	api, err := env.APIRequests(ctx)
	return &meter{env: env, api: api, cp: env.ControlPlaneCPU(), cpu: map[string]map[string]float64{},
		self: map[string]float64{}, selfStart: selfCPUSeconds()}, err
}

// phase records the CPU since the last mark under name and returns the requests since then.
func (m *meter) phase(ctx context.Context, name string) (framework.APIRequests, error) {
	api, err := m.env.APIRequests(ctx)
	if err != nil {
		return framework.APIRequests{}, err
	}
	cp := m.env.ControlPlaneCPU()
	diff := framework.Diff(m.api, api)
	self := selfCPUSeconds()
	m.cpu[name], m.self[name] = cpuDiff(m.cp, cp), self-m.selfStart
	m.api, m.cp, m.selfStart = api, cp, self
	return diff, nil
}

// selfCPUSeconds is the benchmark process's user+system CPU time so far.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
