package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/substitute"
)

// floorFieldOwner is the field manager of the floor's server-side applies.
const floorFieldOwner = "gotk-bench-floor"

// FloorResult is the floor: the same work as the controllers do for the workload, done by a
// plain client with no controller in between, on a fresh cluster of the same kind. Per app it
// pulls the artifact from the registry (resolve the tag, fetch manifest and layer, extract:
// one artifact's worth of source work, on as many workers as source-controller's
// --concurrent), substitutes the variables, server-side applies the four objects (on as many
// workers as kustomize-controller's --concurrent) and waits, through a watch, until the
// Deployment is Current (observed at the applied generation and Available: kube-controller-
// manager's work, the same readiness spec.wait checks). The upgrade re-applies the four
// objects of every app with MCPU=2m and waits the same way. No controller can be faster than
// this on the same cluster; "x times the floor" is how much of the time is ours.
type FloorResult struct {
	Started       time.Time    `json:"started"`
	SourceWorkers int          `json:"sourceWorkers"`
	ApplyWorkers  int          `json:"applyWorkers"`
	Install       FloorPhase   `json:"install"`
	Upgrade       *FloorPhase  `json:"upgrade,omitempty"`
	APIRequests   floorAPIReqs `json:"apiRequests"`
	// ControlPlaneCPU is the CPU seconds of each control plane process by phase.
	ControlPlaneCPU map[string]map[string]float64 `json:"controlPlaneCPU"`
	// ClientCPUSeconds is the benchmark process's own CPU seconds by phase: the floor's client
	// does the controllers' part of the work.
	ClientCPUSeconds map[string]float64 `json:"clientCPUSeconds,omitempty"`
	LoadAverage      string             `json:"loadAverage"`
}

type floorAPIReqs struct {
	Install framework.APIRequests `json:"install"`
	Upgrade framework.APIRequests `json:"upgrade"`
}

// FloorPhase is one phase of the floor run.
type FloorPhase struct {
	// ReadySeconds runs from the first pull (or apply) until the last Deployment was Current.
	ReadySeconds float64 `json:"readySeconds"`
	// AppliedSeconds is when the last apply returned.
	AppliedSeconds float64 `json:"appliedSeconds"`
	Stages         []Stage `json:"stages"`
}

// floorApp is one app's manifests, pulled once and rendered per phase.
type floorApp struct {
	name     string
	manifest []byte
}

// addFloor runs the floor on a fresh environment without controllers and attaches it to res.
func addFloor(ctx context.Context, opts framework.Options, cfg Config, t Tuning, res *Result) error {
	cfg.defaults()
	return onFreshCluster(ctx, opts.WithControllers(), "floor", func(env *framework.Env) (err error) {
		res.Floor, err = RunFloor(ctx, env, cfg, max(t.SourceConcurrent, 1), max(t.KustomizeConcurrent, 1))
		return err
	})
}

// RunFloor runs the floor workload of cfg on env (which needs no controllers).
func RunFloor(ctx context.Context, env *framework.Env, cfg Config, sourceWorkers, applyWorkers int) (*FloorResult, error) {
	cfg.defaults()
	if _, err := setup(ctx, env, cfg); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := startDeploymentWatch(ctx, env, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	ociClient, err := oci.NewClient(oci.ClientOptions{Insecure: true, UserAgent: floorFieldOwner})
	if err != nil {
		return nil, err
	}
	out := &FloorResult{Started: time.Now().UTC(), SourceWorkers: sourceWorkers, ApplyWorkers: applyWorkers}

	apiBefore, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	out.LoadAverage = framework.LoadAverage()
	cpBefore, selfBefore := env.ControlPlaneCPU(), selfCPUSeconds()
	cfg.Logf("floor: pulling %d artifacts (%d workers) and applying %d apps (%d workers)", cfg.N, sourceWorkers, cfg.N, applyWorkers)
	apps := make([]floorApp, cfg.N)
	var stages stageSet
	var mu sync.Mutex
	add := func(name string, d time.Duration) { mu.Lock(); stages.add(name, d); mu.Unlock() }
	start := time.Now()
	pulled := make(chan int, cfg.N)
	pulledAt := make([]time.Time, cfg.N)
	pullErr := make(chan error, 1)
	go func() {
		defer close(pulled)
		pullErr <- forEach(ctx, cfg.N, sourceWorkers, func(ctx context.Context, i int) error {
			t0 := time.Now()
			m, err := pullManifest(ctx, ociClient, env, i)
			if err != nil {
				return err
			}
			add("pull artifact", time.Since(t0))
			apps[i] = floorApp{name: appName(i), manifest: m}
			pulledAt[i] = time.Now()
			pulled <- i
			return nil
		})
	}()
	applyOne := func(ctx context.Context, i int, mcpu string) error {
		t0 := time.Now()
		gen, err := applyApp(ctx, env, cfg, i, apps[i].manifest, mcpu)
		if err != nil {
			return err
		}
		add("apply 4 objects", time.Since(t0))
		w.expect(apps[i].name, gen)
		return nil
	}
	if err := forEachFrom(ctx, pulled, applyWorkers, func(ctx context.Context, i int) error {
		add("pulled → apply started", time.Since(pulledAt[i]))
		return applyOne(ctx, i, "1m")
	}); err != nil {
		return nil, err
	}
	if err := <-pullErr; err != nil {
		return nil, err
	}
	applied := time.Since(start)
	last, err := w.wait(ctx, cfg.N, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	out.Install = FloorPhase{ReadySeconds: last.Sub(start).Seconds(), AppliedSeconds: applied.Seconds()}
	w.stages(&stages, "applied → Current")
	out.Install.Stages = stages.stages()
	cfg.Logf("floor: all %d Deployments Current after %.1fs", cfg.N, out.Install.ReadySeconds)
	apiInstalled, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	out.APIRequests.Install = framework.Diff(apiBefore, apiInstalled)
	cpInstalled := env.ControlPlaneCPU()
	out.ControlPlaneCPU = map[string]map[string]float64{"install": cpuDiff(cpBefore, cpInstalled)}
	selfInstalled := selfCPUSeconds()
	out.ClientCPUSeconds = map[string]float64{"install": selfInstalled - selfBefore}

	if cfg.Upgrade {
		w.reset()
		stages = stageSet{}
		start := time.Now()
		if err := forEach(ctx, cfg.N, applyWorkers, func(ctx context.Context, i int) error {
			return applyOne(ctx, i, "2m")
		}); err != nil {
			return nil, err
		}
		applied := time.Since(start)
		last, err := w.wait(ctx, cfg.N, cfg.Timeout)
		if err != nil {
			return nil, err
		}
		w.stages(&stages, "applied → Current")
		out.Upgrade = &FloorPhase{ReadySeconds: last.Sub(start).Seconds(), AppliedSeconds: applied.Seconds(), Stages: stages.stages()}
		cfg.Logf("floor: all %d Deployments Current at the new generation after %.1fs", cfg.N, out.Upgrade.ReadySeconds)
		apiUpgraded, err := env.APIRequests(ctx)
		if err != nil {
			return nil, err
		}
		out.APIRequests.Upgrade = framework.Diff(apiInstalled, apiUpgraded)
		out.ControlPlaneCPU["upgrade"] = cpuDiff(cpInstalled, env.ControlPlaneCPU())
		out.ClientCPUSeconds["upgrade"] = selfCPUSeconds() - selfInstalled
	}
	return out, nil
}

// forEachFrom runs fn for every index received from in, on at most workers goroutines.
func forEachFrom(ctx context.Context, in <-chan int, workers int, fn func(ctx context.Context, i int) error) error {
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range in {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := fn(ctx, i); err != nil {
					errs <- err
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// pullManifest pulls app i's artifact (every app pulls its own: the floor dedupes nothing a
// source-controller per OCIRepository could not) and returns its manifest.
func pullManifest(ctx context.Context, c *oci.Client, env *framework.Env, i int) ([]byte, error) {
	dir, err := os.MkdirTemp(env.Dir, "floor-pull-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if _, err := c.PullToDir(ctx, env.OCIURL(artifactRepo)+":latest", dir); err != nil {
		return nil, fmt.Errorf("pull for %s: %w", appName(i), err)
	}
	return os.ReadFile(filepath.Join(dir, "podinfo-app.yaml"))
}

// applyApp renders app i's manifest with its variables and applies every object; it returns
// the Deployment's generation after the apply.
func applyApp(ctx context.Context, env *framework.Env, cfg Config, i int, manifest []byte, mcpu string) (int64, error) {
	objs, err := renderApp(manifest, cfg.Namespace, i, mcpu)
	if err != nil {
		return 0, err
	}
	for _, u := range objs {
		if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(floorFieldOwner), client.ForceOwnership); err != nil {
			return 0, fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), cfg.Namespace, u.GetName(), err)
		}
	}
	return deploymentGeneration(objs, i)
}

// renderApp substitutes app i's variables in manifest and decodes its objects into namespace.
func renderApp(manifest []byte, namespace string, i int, mcpu string) ([]*unstructured.Unstructured, error) {
	vars := map[string]string{"INDEX": strconv.Itoa(i), "PODS": "0", "MCPU": mcpu}
	text, err := substitute.Expand(string(manifest), vars, substitute.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", appName(i), err)
	}
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("%s: decode: %w", appName(i), err)
		}
		if len(u.Object) == 0 {
			continue
		}
		u.SetNamespace(namespace)
		objs = append(objs, u)
	}
}

// deploymentGeneration is the generation of the Deployment among app i's applied objects.
func deploymentGeneration(objs []*unstructured.Unstructured, i int) (int64, error) {
	for _, u := range objs {
		if u.GetKind() == "Deployment" && u.GetGeneration() > 0 {
			return u.GetGeneration(), nil
		}
	}
	return 0, fmt.Errorf("%s: the manifest has no Deployment", appName(i))
}

// deploymentWatch records when each Deployment was first seen Current (kstatus) at the
// generation the floor applied.
type deploymentWatch struct {
	mu      sync.Mutex
	want    map[string]int64     // applied generation by name
	applied map[string]time.Time // when the apply returned
	current map[string]seen      // latest Current observation by name
	readyAt map[string]time.Time
	changed chan struct{}
	// notify, when set, receives each name once per phase as it turns Current at its applied
	// generation (buffered for a whole phase: the informer must never block on it).
	notify chan string
}

type seen struct {
	gen int64
	at  time.Time
}

func startDeploymentWatch(ctx context.Context, env *framework.Env, namespace string) (*deploymentWatch, error) {
	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme, DefaultNamespaces: map[string]cache.Config{namespace: {}},
		DefaultTransform: cache.TransformStripManagedFields()})
	if err != nil {
		return nil, err
	}
	w := &deploymentWatch{changed: make(chan struct{})}
	w.reset()
	inf, err := c.GetInformer(ctx, &appsv1.Deployment{})
	if err != nil {
		return nil, err
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.observe(o) },
		UpdateFunc: func(_, o any) { w.observe(o) },
	}); err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("deployment informer in %s did not sync", namespace)
	}
	return w, nil
}

// notifyReady returns a channel that receives each name as it turns Current at its applied
// generation, once per phase; perPhase bounds how many a phase has.
func (w *deploymentWatch) notifyReady(perPhase int) <-chan string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.notify = make(chan string, perPhase)
	return w.notify
}

func (w *deploymentWatch) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want, w.applied, w.readyAt = map[string]int64{}, map[string]time.Time{}, map[string]time.Time{}
	if w.current == nil {
		w.current = map[string]seen{}
	}
}

func (w *deploymentWatch) observe(o any) {
	d, ok := o.(*appsv1.Deployment)
	if !ok {
		return
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		return
	}
	r, err := status.Compute(&unstructured.Unstructured{Object: m})
	if err != nil || r.Status != status.CurrentStatus {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.current[d.Name] = seen{gen: d.Generation, at: now}
	w.markLocked(d.Name)
}

// expect records that name was applied at generation gen.
func (w *deploymentWatch) expect(name string, gen int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want[name], w.applied[name] = gen, time.Now()
	w.markLocked(name)
}

func (w *deploymentWatch) markLocked(name string) {
	want, ok := w.want[name]
	cur := w.current[name]
	if !ok || cur.gen < want {
		return
	}
	if _, done := w.readyAt[name]; done {
		return
	}
	w.readyAt[name] = cur.at
	if w.notify != nil {
		select {
		case w.notify <- name:
		default: // only when a failed phase left names unread
		}
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// wait blocks until n Deployments are Current at their applied generation and returns when
// the last one was seen so.
func (w *deploymentWatch) wait(ctx context.Context, n int, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		done, changed := len(w.readyAt), w.changed
		var last time.Time
		for _, at := range w.readyAt {
			if at.After(last) {
				last = at
			}
		}
		w.mu.Unlock()
		if done >= n {
			return last, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return time.Time{}, fmt.Errorf("%d of %d Deployments not Current after %s", n-done, n, timeout)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// stages adds, per app, the time from the apply's return to Current.
func (w *deploymentWatch) stages(set *stageSet, name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for app, at := range w.readyAt {
		set.add(name, nonNegative(at.Sub(w.applied[app])))
	}
}
