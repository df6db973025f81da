package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	helmreg "helm.sh/helm/v3/pkg/registry"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/helmrepo"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// The HelmChart workload: N HelmCharts of the podinfo chart over one HelmRepository, the
// source side of flux-benchmark's HelmRelease workload (upstream: 1,000 HelmCharts Ready in
// 1m30s at 110Mi on 16 cores with source-controller --concurrent=10). Two repository kinds:
// an HTTP Helm repository (the index parsed once per revision through the index cache, the
// archive downloaded once and stored once) and an OCI repository on the distribution
// registry (a tag listing and a manifest HEAD per chart).

// Repository kinds of the HelmChart workload.
const (
	helmHTTP = "http"
	helmOCI  = "oci"
)

// podinfoVersions are the chart versions the repository serves; the charts ask for "6.x".
var podinfoVersions = []string{"6.0.0", "6.1.0", "6.2.0"}

// HelmConfig is one HelmChart run.
type HelmConfig struct {
	// N is the number of HelmCharts.
	N int
	// Repository is helmHTTP or helmOCI.
	Repository string
	Namespace  string
	Workers    int
	Timeout    time.Duration
	Logf       func(format string, args ...any)
}

// HelmResult is one HelmChart run, written as helm-<repository>-<N>.json/.md.
type HelmResult struct {
	N          int       `json:"n"`
	Repository string    `json:"repository"`
	Started    time.Time `json:"started"`
	Host       Host      `json:"host"`
	// CreateSeconds is how long submitting the HelmCharts took; ReadySeconds when the last
	// was Ready, from the first create (the HelmRepository was Ready before).
	CreateSeconds float64 `json:"createSeconds"`
	ReadySeconds  float64 `json:"readySeconds"`
	// IndexParses counts the parses of the repository index: the HelmRepository's fetches
	// (one per reconcile) plus the index cache's loads (the charts' parses on a miss).
	IndexParses  int64 `json:"indexParses"`
	IndexFetches int64 `json:"indexFetches"`
	CacheLoads   int64 `json:"cacheLoads"`
	// ChartDownloads counts the chart archive requests to the HTTP repository.
	ChartDownloads int64 `json:"chartDownloads"`
	// PeakAnonRSSBytes is source-controller's largest sampled anonymous RSS (heap and stacks);
	// Controller.PeakRSSBytes (VmHWM) also counts the executable's file-backed pages.
	PeakAnonRSSBytes int64             `json:"peakAnonRSSBytes"`
	Controller       *ControllerResult `json:"controller"`
	Deviations       []string          `json:"deviations"`
}

// RunHelmCharts runs the HelmChart workload on env (source-controller must run).
func RunHelmCharts(ctx context.Context, env *framework.Env, cfg HelmConfig) (*HelmResult, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	sc, err := env.Controller("source-controller")
	if err != nil {
		return nil, fmt.Errorf("the HelmChart benchmark needs source-controller: %w", err)
	}
	if err := env.CreateNamespace(ctx, cfg.Namespace); err != nil {
		return nil, err
	}
	repo, charts, err := helmRepository(ctx, env, cfg)
	if charts != nil {
		defer charts.Close()
	}
	if err != nil {
		return nil, err
	}
	if err := env.Client.Create(ctx, repo); err != nil {
		return nil, fmt.Errorf("create HelmRepository: %w", err)
	}
	if repo.Spec.Type != sourcev1.HelmRepositoryTypeOCI {
		if err := env.WaitReady(ctx, repo, time.Minute); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr, err := startTracker(ctx, env, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	tr.expect("HelmChart", names(cfg.N))
	host, _ := os.Hostname()
	res := &HelmResult{N: cfg.N, Repository: cfg.Repository, Started: time.Now().UTC(), Deviations: framework.RecordedDeviations(),
		Host: Host{Name: host, CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}}
	cfg.Logf("bench: creating %d HelmCharts over the %s repository with %d workers", cfg.N, cfg.Repository, cfg.Workers)
	start := time.Now()
	err = forEach(ctx, cfg.N, cfg.Workers, func(ctx context.Context, i int) error {
		c := &sourcev1.HelmChart{
			ObjectMeta: metav1.ObjectMeta{Name: appName(i), Namespace: cfg.Namespace},
			Spec: sourcev1.HelmChartSpec{
				Chart:     "podinfo",
				Version:   "6.x",
				SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: repo.Name},
				Interval:  metav1.Duration{Duration: 60 * time.Minute},
			},
		}
		if err := env.Client.Create(ctx, c); err != nil {
			return fmt.Errorf("create HelmChart %s/%s: %w", cfg.Namespace, c.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.CreateSeconds = time.Since(start).Seconds()
	last, err := tr.wait(ctx, "HelmChart", cfg.Timeout, func(done, total int) {
		cfg.Logf("bench: %d/%d HelmCharts Ready after %s", done, total, time.Since(start).Round(time.Second))
	})
	if err != nil {
		return nil, withLogTail(env, "HelmChart", err)
	}
	res.ReadySeconds = last.Sub(start).Seconds()
	cfg.Logf("bench: all %d HelmCharts Ready after %.1fs", cfg.N, res.ReadySeconds)

	loads, err := sc.CounterSum(ctx, "gotk_cache_events_total", map[string]string{"event_type": "cache_load"})
	if err != nil {
		return nil, err
	}
	res.CacheLoads = int64(loads)
	if charts != nil {
		for _, r := range charts.Requests() {
			switch {
			case r.Path == "/index.yaml":
				res.IndexFetches++
			case strings.HasSuffix(r.Path, ".tgz"):
				res.ChartDownloads++
			}
		}
	}
	res.IndexParses = res.IndexFetches + res.CacheLoads
	res.Controller = &ControllerResult{
		Name: sc.Name, Bin: sc.Bin, Args: sc.Args, Concurrent: flagValue(sc.Args, "concurrent"),
		KubeAPIQPS: flagValue(sc.Args, "kube-api-qps"), KubeAPIBurst: flagValue(sc.Args, "kube-api-burst"),
		PeakRSSBytes: sc.PeakRSS(), CPUSeconds: sc.CPUSeconds(),
	}
	res.PeakAnonRSSBytes = sc.PeakAnonRSS()
	if reqs, err := sc.ClientRequests(ctx); err == nil {
		res.Controller.ClientRequests = reqs
	}
	return res, nil
}

// helmRepository prepares the chart repository of cfg.Repository and returns its
// HelmRepository (and the HTTP server, to be closed, for helmHTTP).
func helmRepository(ctx context.Context, env *framework.Env, cfg HelmConfig) (*sourcev1.HelmRepository, *helmrepo.Server, error) {
	dir, err := podinfoChartDir()
	if err != nil {
		return nil, nil, err
	}
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: cfg.Namespace},
		Spec:       sourcev1.HelmRepositorySpec{Interval: metav1.Duration{Duration: 60 * time.Minute}},
	}
	switch cfg.Repository {
	case helmHTTP:
		srv, err := helmrepo.Start(helmrepo.Options{})
		if err != nil {
			return nil, nil, err
		}
		for _, v := range podinfoVersions {
			data, err := helmrepo.PackageChart(dir, "", v)
			if err == nil {
				_, err = srv.Add(data)
			}
			if err != nil {
				return nil, srv, err
			}
		}
		repo.Spec.URL = srv.URL
		return repo, srv, nil
	case helmOCI:
		for _, v := range podinfoVersions {
			data, err := helmrepo.PackageChart(dir, "", v)
			if err == nil {
				_, err = helmrepo.Push(env.Registry.Host(), "charts", data, helmreg.ClientOptPlainHTTP())
			}
			if err != nil {
				return nil, nil, err
			}
		}
		repo.Spec.Type = sourcev1.HelmRepositoryTypeOCI
		repo.Spec.URL = env.OCIURL("charts")
		repo.Spec.Insecure = true
		return repo, nil, nil
	}
	return nil, nil, fmt.Errorf("unknown Helm repository kind %q: want %s or %s", cfg.Repository, helmHTTP, helmOCI)
}

// podinfoChartDir is the podinfo chart fixture of internal/testing/helmrepo.
func podinfoChartDir() (string, error) {
	dir := helmrepo.PodinfoDir()
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		return "", fmt.Errorf("podinfo chart fixture: %w", err)
	}
	return dir, nil
}

// Markdown renders the result like flux-benchmark's RESULTS.md row, with the settings.
func (r *HelmResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## HelmChart benchmark: %d HelmCharts over one %s repository (%s)\n\n", r.N, strings.ToUpper(r.Repository), r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Host: %d CPUs, %s/%s, %s.\n\n", r.Host.CPUs, r.Host.GOOS, r.Host.GOARCH, r.Host.GoVersion)
	b.WriteString("| Objects | Type | Flux component | Duration | Max Memory | Max anonymous memory | CPU | Index parses | Chart downloads |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	downloads := strconv.FormatInt(r.ChartDownloads, 10)
	if r.Repository == helmOCI {
		downloads = "n/a"
	}
	fmt.Fprintf(&b, "| %d | HelmChart | %s | %s | %s | %s | %.1fs | %d (%d index fetches + %d cache loads) | %s |\n",
		r.N, r.Controller.Name, dur(r.ReadySeconds), mebibytes(r.Controller.PeakRSSBytes), mebibytes(r.PeakAnonRSSBytes), r.Controller.CPUSeconds,
		r.IndexParses, r.IndexFetches, r.CacheLoads, downloads)
	fmt.Fprintf(&b, "\nDuration runs from the first create until the last HelmChart was Ready (submitting took %s; an HTTP HelmRepository was Ready before, an OCI one needs nothing). "+
		"Max Memory is the peak RSS (VmHWM) of the process, which counts the pages of its executable it touched; "+
		"max anonymous memory is the largest sampled RssAnon (heap and stacks). CPU is user+system time.\n\n", dur(r.CreateSeconds))
	fmt.Fprintf(&b, "source-controller: `%s`; own API requests: %s\n", strings.Join(r.Controller.Args, " "), framework.FormatCounts(r.Controller.ClientRequests))
	return b.String()
}

// Write stores helm-<repository>-<N>.json and .md in dir and returns their paths.
func (r *HelmResult) Write(dir string) ([]string, error) {
	return writeResult(dir, fmt.Sprintf("helm-%s-%d", r.Repository, r.N), r, r.Markdown())
}
