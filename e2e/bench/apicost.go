package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// APICostConfig is one --mode apicost run.
type APICostConfig struct {
	// N is how many apps each request class is sent for.
	N int
	// Workers is how many requests are in flight at once (the benchmark client's).
	Workers   int
	Namespace string
	// Settle is the pause after each class, inside its measurement window, so the API
	// server's asynchronous work for it (watch fan-out, kube-controller-manager reacting to
	// new Deployments) is counted with it; also the length of the idle measurement.
	Settle time.Duration
	Logf   func(format string, args ...any)
}

// apiCost holds the objects one class leaves for the next.
type apiCost struct {
	env      *framework.Env
	cfg      APICostConfig
	sa       client.Client
	revision string
	ocis     []*sourcev1.OCIRepository
	kss      []*kustomizev1.Kustomization
	objs     [][]*unstructured.Unstructured
}

// apiCostClass is one kind of request: perApp requests for each of N apps.
type apiCostClass struct {
	name   string
	perApp int
	send   func(ctx context.Context, i int) error
}

// classes are the request classes in the order they run (each needs the objects of those
// before it).
func (a *apiCost) classes() []apiCostClass {
	return []apiCostClass{
		{"POST OCIRepository", 1, func(ctx context.Context, i int) error {
			a.ocis[i] = ociRepository(a.env, Config{Namespace: a.cfg.Namespace, Interval: time.Hour}, i)
			return a.env.Client.Create(ctx, a.ocis[i])
		}},
		{"POST Kustomization", 1, func(ctx context.Context, i int) error {
			a.kss[i] = kustomization(Config{Namespace: a.cfg.Namespace, Interval: time.Hour}, i)
			return a.env.Client.Create(ctx, a.kss[i])
		}},
		{"finalizer merge patch OCIRepository", 1, func(ctx context.Context, i int) error { return addFinalizer(ctx, a.env.Client, a.ocis[i]) }},
		{"finalizer merge patch Kustomization", 1, func(ctx context.Context, i int) error { return addFinalizer(ctx, a.env.Client, a.kss[i]) }},
		{"status merge patch OCIRepository (artifact, Ready)", 1, func(ctx context.Context, i int) error {
			base := a.ocis[i].DeepCopy()
			setSourceReady(a.ocis[i], a.revision, []byte(appManifest))
			return patchStatus(ctx, a.env.Client, base, a.ocis[i])
		}},
		{"status merge patch Kustomization (inventory, Ready, history)", 1, func(ctx context.Context, i int) error {
			objs, err := renderApp([]byte(appManifest), a.cfg.Namespace, i, "1m")
			if err != nil {
				return err
			}
			base := a.kss[i].DeepCopy()
			setKustomizationReady(a.kss[i], a.revision, objs, 100*time.Millisecond)
			return patchStatus(ctx, a.env.Client, base, a.kss[i])
		}},
		{"POST Event (core/v1, as client-go's recorder)", 1, func(ctx context.Context, i int) error { return newArtifactEvent(ctx, a.env.Client, a.ocis[i]) }},
		{"SSA apply creating the 4 objects (as the ServiceAccount)", 4, func(ctx context.Context, i int) error {
			objs, err := renderApp([]byte(appManifest), a.cfg.Namespace, i, "1m")
			if err != nil {
				return err
			}
			a.objs[i] = objs
			return fluxApply(ctx, a.sa, objs, a.kss[i])
		}},
		{"SSA apply again, no-op (as the ServiceAccount)", 4, func(ctx context.Context, i int) error { return a.reapply(ctx, a.sa, i) }},
		{"SSA apply again, no-op (admin: no impersonation)", 4, func(ctx context.Context, i int) error { return a.reapply(ctx, a.env.Client, i) }},
		{"GET each object, resourceVersion=0 (watch cache)", 4, func(ctx context.Context, i int) error { return a.get(ctx, i, "0") }},
		{"GET each object (quorum read)", 4, func(ctx context.Context, i int) error { return a.get(ctx, i, "") }},
	}
}

func (a *apiCost) reapply(ctx context.Context, c client.Client, i int) error {
	objs, err := renderApp([]byte(appManifest), a.cfg.Namespace, i, "1m")
	if err != nil {
		return err
	}
	return fluxApply(ctx, c, objs, a.kss[i])
}

func (a *apiCost) get(ctx context.Context, i int, resourceVersion string) error {
	for _, o := range a.objs[i] {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GroupVersionKind())
		opts := &client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: resourceVersion}}
		if err := a.env.Client.Get(ctx, client.ObjectKeyFromObject(o), u, opts); err != nil {
			return fmt.Errorf("get %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}

// RunAPICost measures, on env (the CRDs, no controllers), the control plane CPU of each
// request class a Flux reconcile makes, one class at a time.
func RunAPICost(ctx context.Context, env *framework.Env, cfg APICostConfig) (*APICostResult, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	host, _ := os.Hostname()
	res := &APICostResult{N: cfg.N, Workers: cfg.Workers, SettleSeconds: cfg.Settle.Seconds(), Started: time.Now().UTC(),
		Host: Host{Name: host, CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}}
	res.LoadAverage.Start = framework.LoadAverage()
	digest, err := setup(ctx, env, Config{Namespace: cfg.Namespace})
	if err != nil {
		return nil, err
	}
	sa, err := impersonating(env, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	a := &apiCost{env: env, cfg: cfg, sa: sa, revision: fluxRevision(digest), ocis: make([]*sourcev1.OCIRepository, cfg.N),
		kss: make([]*kustomizev1.Kustomization, cfg.N), objs: make([][]*unstructured.Unstructured, cfg.N)}
	time.Sleep(cfg.Settle) // let the setup's own work pass
	idleStart, cpBefore := time.Now(), env.ControlPlaneCPU()
	time.Sleep(cfg.Settle)
	res.Idle = APICostIdle{Seconds: time.Since(idleStart).Seconds(), CPUSeconds: cpuDiff(cpBefore, env.ControlPlaneCPU())}
	for _, c := range a.classes() {
		m, err := startMeter(ctx, env)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if err := forEach(ctx, cfg.N, cfg.Workers, c.send); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		wall := time.Since(start)
		time.Sleep(cfg.Settle)
		window := time.Since(start)
		reqs, err := m.phase(ctx, "class")
		if err != nil {
			return nil, err
		}
		cpu := m.cpu["class"]
		class := APICostClass{Name: c.name, Requests: int64(cfg.N * c.perApp), WallSeconds: wall.Seconds(), WindowSeconds: window.Seconds(),
			APIServerCPUSeconds: cpu["kube-apiserver"], EtcdCPUSeconds: cpu["etcd"], APIRequests: reqs.ByResource,
			OtherRequests: max(reqs.Total()-int64(cfg.N*c.perApp), 0)}
		res.Classes = append(res.Classes, class)
		cfg.Logf("apicost: %s: %d requests in %s, kube-apiserver %.2fs CPU (%.2f ms per request)", c.name, class.Requests,
			wall.Round(time.Millisecond), class.APIServerCPUSeconds, class.apiserverMsPerRequest(res.Idle))
	}
	res.LoadAverage.End = framework.LoadAverage()
	return res, nil
}
