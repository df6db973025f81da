package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"gotk.dev/e2e/cluster"
	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// HubResult is one hub-and-spoke run: a hub's controllers converging N apps on each of
// several spoke clusters (Kustomizations with spec.kubeConfig and spec.wait), written as
// hubspoke-<spokes>x<N>.json.
type HubResult struct {
	N           int                 `json:"n"`
	Spokes      int                 `json:"spokes"`
	Started     time.Time           `json:"started"`
	Host        Host                `json:"host"`
	Controllers []*ControllerResult `json:"controllers"`
	// CreateSeconds is how long submitting the hub's objects took; ReadySeconds when the last
	// Kustomization of every spoke was Ready.
	CreateSeconds float64 `json:"createSeconds"`
	ReadySeconds  float64 `json:"readySeconds"`
	// HubAPIRequests are the hub API server's requests during the run, SpokeAPIRequests each
	// spoke's (by spoke name).
	HubAPIRequests   framework.APIRequests            `json:"hubAPIRequests"`
	SpokeAPIRequests map[string]framework.APIRequests `json:"spokeAPIRequests"`
}

// runHubSpoke runs the hub-and-spoke workload for each N on a fresh hub with fresh spokes.
func runHubSpoke(ctx context.Context, opts framework.Options, f *flags, logf func(string, ...any)) error {
	opts = opts.WithControllers("source-controller", "kustomize-controller")
	for _, n := range f.ns {
		cfg := f.cfg
		cfg.N, cfg.Logf = n, logf
		cfg.defaults()
		var res *HubResult
		if err := onFreshCluster(ctx, opts, fmt.Sprintf("N=%d", n), func(env *framework.Env) (err error) {
			res, err = RunHubSpoke(ctx, env, cfg, f.spokes)
			return err
		}); err != nil {
			return err
		}
		paths, err := writeResult(f.out, fmt.Sprintf("hubspoke-%dx%d", f.spokes, n), res, res.Markdown())
		if err != nil {
			return err
		}
		fmt.Println(res.Markdown())
		fmt.Printf("written: %s\n\n", strings.Join(paths, ", "))
	}
	return nil
}

// hubSpoke is a spoke cluster of the benchmark.
type hubSpoke struct {
	name    string
	cluster *cluster.Cluster
	cs      kubernetes.Interface
}

// RunHubSpoke starts the spokes, stores their kubeconfigs in the hub, creates N
// OCIRepositories and, per spoke, N Kustomizations deploying the app there, and waits until
// all are Ready.
func RunHubSpoke(ctx context.Context, env *framework.Env, cfg Config, spokes int) (*HubResult, error) {
	host, _ := os.Hostname()
	res := &HubResult{N: cfg.N, Spokes: spokes, Started: time.Now().UTC(), SpokeAPIRequests: map[string]framework.APIRequests{},
		Host: Host{Name: host, CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}}
	if _, err := setup(ctx, env, cfg); err != nil {
		return nil, err
	}
	started, err := startBenchSpokes(ctx, env, cfg, spokes)
	defer func() {
		for _, s := range started {
			s.cluster.Stop()
		}
	}()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr, err := startTracker(ctx, env, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	tr.expect("OCIRepository", names(cfg.N))
	all := map[string]int64{}
	for _, s := range started {
		for i := range cfg.N {
			all[spokeAppName(i, s.name)] = 1
		}
	}
	tr.expect("Kustomization", all)
	hubBefore, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	spokeBefore := map[string]framework.APIRequests{}
	for _, s := range started {
		if spokeBefore[s.name], err = framework.ScrapeAPIRequests(ctx, s.cs); err != nil {
			return nil, err
		}
	}
	cfg.Logf("bench: creating %d apps on each of %d spokes", cfg.N, spokes)
	start := time.Now()
	err = forEach(ctx, cfg.N, cfg.Workers, func(ctx context.Context, i int) error {
		if err := env.Client.Create(ctx, ociRepository(env, cfg, i)); err != nil {
			return fmt.Errorf("create OCIRepository %s: %w", appName(i), err)
		}
		for _, s := range started {
			if err := env.Client.Create(ctx, spokeKustomization(cfg, i, s.name)); err != nil {
				return fmt.Errorf("create Kustomization %s: %w", spokeAppName(i, s.name), err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.CreateSeconds = time.Since(start).Seconds()
	last, err := tr.wait(ctx, "Kustomization", cfg.Timeout, func(done, total int) {
		cfg.Logf("bench: %d/%d Kustomizations Ready after %s", done, total, time.Since(start).Round(time.Second))
	})
	if err != nil {
		return nil, withLogTail(env, "Kustomization", err)
	}
	res.ReadySeconds = last.Sub(start).Seconds()
	hubAfter, err := env.APIRequests(ctx)
	if err != nil {
		return nil, err
	}
	res.HubAPIRequests = framework.Diff(hubBefore, hubAfter)
	for _, s := range started {
		after, err := framework.ScrapeAPIRequests(ctx, s.cs)
		if err != nil {
			return nil, err
		}
		res.SpokeAPIRequests[s.name] = framework.Diff(spokeBefore[s.name], after)
	}
	for _, name := range sortedKeys(env.Controllers) {
		p := env.Controllers[name]
		c := &ControllerResult{Name: name, Bin: p.Bin, Args: p.Args, Concurrent: flagValue(p.Args, "concurrent"),
			PeakRSSBytes: p.PeakRSS(), CPUSeconds: p.CPUSeconds()}
		if reqs, err := p.ClientRequests(ctx); err == nil {
			c.ClientRequests = reqs
		}
		res.Controllers = append(res.Controllers, c)
	}
	return res, nil
}

// startBenchSpokes starts the spoke clusters side by side, creates the apps' namespace in
// each and stores each one's admin kubeconfig in the hub as Secret <spoke> in cfg.Namespace.
func startBenchSpokes(ctx context.Context, env *framework.Env, cfg Config, n int) ([]*hubSpoke, error) {
	out := make([]*hubSpoke, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "spoke" + strconv.Itoa(k+1)
			c, err := cluster.Start(ctx, cluster.Options{Dir: filepath.Join(env.Dir, "spokes", name), Nodes: 1})
			if err != nil {
				errs[k] = fmt.Errorf("spoke %s: %w", name, err)
				return
			}
			s := &hubSpoke{name: name, cluster: c}
			out[k] = s
			if s.cs, err = kubernetes.NewForConfig(c.Config); err != nil {
				errs[k] = err
				return
			}
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.Namespace}}
			if _, err := s.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
				errs[k] = fmt.Errorf("spoke %s: %w", name, err)
				return
			}
			kubeconfig, err := os.ReadFile(c.Kubeconfig)
			if err != nil {
				errs[k] = err
				return
			}
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cfg.Namespace}, Data: map[string][]byte{"value": kubeconfig}}
			errs[k] = env.Client.Create(ctx, secret)
		}()
	}
	wg.Wait()
	var started []*hubSpoke
	for _, s := range out {
		if s != nil {
			started = append(started, s)
		}
	}
	return started, errors.Join(errs...)
}

func spokeAppName(i int, spoke string) string { return appName(i) + "-" + spoke }

// spokeKustomization is the benchmark's Kustomization of app i, applied to spoke through its
// kubeconfig Secret (as the spoke's admin: no impersonation).
func spokeKustomization(cfg Config, i int, spoke string) *kustomizev1.Kustomization {
	ks := kustomization(cfg, i)
	ks.Name = spokeAppName(i, spoke)
	ks.Spec.ServiceAccountName = ""
	ks.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: spoke}}
	return ks
}

// Markdown renders the run.
func (r *HubResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Hub and spoke: %d spokes x %d apps (%s)\n\n", r.Spokes, r.N, r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Host: %d CPUs, %s/%s. The hub's kustomize-controller applies %d Kustomizations (spec.kubeConfig, spec.wait) "+
		"of flux-benchmark's app to the spokes, each spoke its own control plane on this machine.\n\n", r.Host.CPUs, r.Host.GOOS, r.Host.GOARCH, r.N*r.Spokes)
	fmt.Fprintf(&b, "- all Ready after %s (submitting took %s)\n", dur(r.ReadySeconds), dur(r.CreateSeconds))
	fmt.Fprintf(&b, "- hub API server: %d requests (%s)\n", r.HubAPIRequests.Total(), framework.FormatCounts(r.HubAPIRequests.ByVerb))
	for _, name := range sortedKeys(r.SpokeAPIRequests) {
		a := r.SpokeAPIRequests[name]
		fmt.Fprintf(&b, "- %s API server: %d requests, %.1f per app (%s)\n", name, a.Total(), float64(a.Total())/float64(max(r.N, 1)), framework.FormatCounts(a.ByVerb))
	}
	b.WriteString("\n| Controller | Peak RSS | CPU | Own API requests (hub and spokes) |\n|---|---|---|---|\n")
	for _, c := range r.Controllers {
		fmt.Fprintf(&b, "| %s | %s | %.1fs | %s |\n", c.Name, mebibytes(c.PeakRSSBytes), c.CPUSeconds, framework.FormatCounts(c.ClientRequests))
	}
	return b.String()
}
