// Package manager builds a controller process the way every Flux controller is built: logger,
// client config, controller-runtime manager with leader election, health and metrics endpoints,
// a cache scoped by --watch-all-namespaces and --watch-label-selector, the event and metrics
// recorders, and the per-controller concurrency and retry backoff.
package manager

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	"gotk.dev/pkg/events"
	"gotk.dev/pkg/metrics"
	"gotk.dev/pkg/options"
	"gotk.dev/pkg/reconcile"
)

// AddToScheme registers API types with a scheme (every API package has one).
type AddToScheme func(*runtime.Scheme) error

// Setup describes one controller process.
type Setup struct {
	// Name is the controller name, e.g. "source-controller"; it names the leader election
	// lease, the event source and the reporting controller.
	Name string
	// Options are the parsed shared flags; New validates them.
	Options *options.Runtime
	// FeatureGates are the gates the controller knows, with their defaults: a gate named in
	// --feature-gates that is not here is an error.
	FeatureGates map[string]bool
	// AddToScheme registers the kinds the controller reads and writes, beyond the built-in
	// Kubernetes kinds.
	AddToScheme []AddToScheme
	// Scheme replaces the scheme New would build (tests share one).
	Scheme *runtime.Scheme
	// Watched are the controller's own kinds; --watch-label-selector scopes their cache.
	Watched []client.Object
	// RESTConfig overrides the config built from --kubeconfig (tests).
	RESTConfig *rest.Config
	// CacheTransform rewrites every object before the cache stores it (nil keeps objects
	// whole): controllers that watch many objects they do not own (health checks) drop what
	// they never read.
	CacheTransform toolscache.TransformFunc
	// CacheByObject scopes the informers of other kinds the controller watches but does
	// not own, e.g. only the ConfigMaps and Secrets labelled reconcile.fluxcd.io/watch:
	// Enabled (helm-controller's --watch-configs-label-selector), so a watch on them never
	// caches every Secret in the cluster.
	CacheByObject map[client.Object]cache.ByObject
}

// Runtime is a built controller process, ready for reconcilers to be added.
type Runtime struct {
	Manager ctrl.Manager
	Events  *events.Recorder
	Metrics *metrics.Recorder
	Log     logr.Logger
	opts    *options.Runtime
}

// NewLogger builds the process logger from --log-level and --log-encoding.
func NewLogger(o *options.Runtime) logr.Logger {
	level := map[string]zapcore.Level{"trace": -2, "debug": -1, "info": 0, "error": zapcore.ErrorLevel}[o.LogLevel]
	zo := []zap.Opts{zap.Level(level), zap.StacktraceLevel(zapcore.PanicLevel),
		// ISO-8601 timestamps, as upstream controllers log them (log tooling parses them).
		func(o *zap.Options) { o.TimeEncoder = zapcore.ISO8601TimeEncoder }}
	if o.LogEncoding == "console" {
		zo = append(zo, zap.ConsoleEncoder())
	} else {
		zo = append(zo, zap.JSONEncoder())
	}
	return zap.New(zo...)
}

// RESTConfig builds the client config from --kubeconfig, $KUBECONFIG or the in-cluster
// service account, with the QPS and burst flags applied.
func RESTConfig(o *options.Runtime, userAgent string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no Kubernetes client configuration (set --kubeconfig or KUBECONFIG, or run in a cluster): %w", err)
	}
	cfg.QPS, cfg.Burst = o.KubeAPIQPS, o.KubeAPIBurst
	cfg.UserAgent = userAgent
	return cfg, nil
}

// New builds the manager and recorders. Reconcilers are added by the caller; Start with
// rt.Manager.Start(ctx).
func New(s Setup) (*Runtime, error) {
	if err := s.Options.Validate(s.FeatureGates); err != nil {
		return nil, err
	}
	if s.Scheme == nil {
		s.Scheme = runtime.NewScheme()
		for _, add := range append([]AddToScheme{clientgoscheme.AddToScheme}, s.AddToScheme...) {
			if err := add(s.Scheme); err != nil {
				return nil, err
			}
		}
	}
	log := NewLogger(s.Options)
	ctrl.SetLogger(log)
	cfg := s.RESTConfig
	if cfg == nil {
		var err error
		if cfg, err = RESTConfig(s.Options, s.Name); err != nil {
			return nil, err
		}
	}
	selector, err := s.Options.LabelSelector()
	if err != nil {
		return nil, err
	}
	cacheOpts := cache.Options{ByObject: map[client.Object]cache.ByObject{}}
	if !selector.Empty() {
		for _, obj := range s.Watched {
			cacheOpts.ByObject[obj] = cache.ByObject{Label: selector}
		}
	}
	for obj, by := range s.CacheByObject {
		cacheOpts.ByObject[obj] = by
	}
	cacheOpts.DefaultTransform = s.CacheTransform
	if !s.Options.WatchAllNamespaces {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{options.RuntimeNamespace(): {}}
	}
	le := s.Options.LeaderElection
	if le.Enabled && le.LeaseNamespace == "" {
		// In a pod controller-runtime finds its namespace itself; out of cluster (e2e runs the
		// controllers as processes) it needs one, and $RUNTIME_NAMESPACE is the pod's anyway.
		le.LeaseNamespace = os.Getenv("RUNTIME_NAMESPACE")
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        s.Scheme,
		Logger:                        log,
		Metrics:                       metricsserver.Options{BindAddress: s.Options.MetricsAddr, ExtraHandlers: pprofHandlers()},
		HealthProbeBindAddress:        s.Options.HealthAddr,
		LeaderElection:                le.Enabled,
		LeaderElectionID:              s.Name + "-leader-election",
		LeaderElectionNamespace:       le.LeaseNamespace,
		LeaderElectionReleaseOnCancel: le.ReleaseOnExit,
		LeaseDuration:                 &le.LeaseDuration,
		RenewDeadline:                 &le.RenewDeadline,
		RetryPeriod:                   &le.RetryPeriod,
		Cache:                         cacheOpts,
		// Secrets and ConfigMaps are read rarely and can be many and large: read them
		// directly instead of caching every one in the cluster.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	rec, err := events.NewRecorder(cfg, events.Options{Controller: s.Name, EventsAddr: s.Options.EventsAddr, Scheme: s.Scheme, Log: log.WithName("events")})
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(rec); err != nil {
		return nil, err
	}
	m, err := metrics.NewRecorder(nil)
	if err != nil {
		return nil, err
	}
	return &Runtime{Manager: mgr, Events: rec, Metrics: m, Log: log, opts: s.Options}, nil
}

// ControllerOptions carries --concurrent and the --min/--max-retry-delay backoff to a
// controller built with ctrl.NewControllerManagedBy(...).WithOptions(...).
func (r *Runtime) ControllerOptions() controller.Options {
	return controller.Options{
		MaxConcurrentReconciles: r.opts.Concurrent,
		RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[crreconcile.Request](
			r.opts.MinRetryDelay, r.opts.MaxRetryDelay),
		RecoverPanic: ptrTrue(),
	}
}

// Shared is what every reconcile engine of this process shares: the event and metrics
// recorders, --requeue-dependency and --interval-jitter-percentage. Pass it as
// reconcile.Options.Shared.
func (r *Runtime) Shared() reconcile.Shared {
	return reconcile.Shared{
		Events:            r.Events,
		Metrics:           r.Metrics,
		RequeueDependency: r.opts.RequeueDependency,
		JitterPercent:     r.opts.IntervalJitterPercentage,
	}
}

// Options are the process's shared command-line options.
func (r *Runtime) Options() *options.Runtime { return r.opts }

func ptrTrue() *bool { b := true; return &b }

// pprofHandlers serves Go's profiles under /debug/pprof/ on the metrics address, as upstream
// Flux controllers do, so a CPU or heap profile can be taken from a running controller.
func pprofHandlers() map[string]http.Handler {
	return map[string]http.Handler{
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
}
