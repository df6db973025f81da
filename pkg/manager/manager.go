// Package manager builds a controller process the way every Flux controller is built: logger,
// client config, controller-runtime manager with leader election, health and metrics endpoints,
// a cache scoped by --watch-all-namespaces and --watch-label-selector, the event and metrics
// recorders, and the per-controller concurrency and retry backoff.
package manager

import (
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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
	"gotk.dev/pkg/lenient"
	"gotk.dev/pkg/metrics"
	"gotk.dev/pkg/options"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/timeline"
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
	// FeatureGates are the gates the controller knows (options.CommonGates() are always
	// known): a gate named in --feature-gates that is not here is an error, one without
	// effect here is logged once.
	FeatureGates options.Gates
	// AddToScheme registers the kinds the controller reads and writes, beyond the built-in
	// Kubernetes kinds.
	AddToScheme []AddToScheme
	// Scheme replaces the scheme New would build (tests share one).
	Scheme *runtime.Scheme
	// Watched are the controller's own kinds; --watch-label-selector scopes their cache.
	Watched []client.Object
	// RESTConfig overrides the config built from --kubeconfig (tests).
	RESTConfig *rest.Config
	// WatchConfigs, when set, lets the controller watch the metadata of the ConfigMaps and
	// Secrets it selects (--watch-configs-label-selector): ConfigMaps and Secrets are
	// otherwise read from the API, never cached. Watch them with ConfigMetadata and
	// builder.OnlyMetadata.
	WatchConfigs labels.Selector
	// CacheTransform rewrites every object before the cache stores it (nil keeps objects
	// whole): controllers that watch many objects they do not own (health checks) drop what
	// they never read.
	CacheTransform toolscache.TransformFunc
	// LogOutput receives the process' log lines (nil: stderr). Tests capture them to prove
	// that nothing secret is logged.
	LogOutput io.Writer
}

// Runtime is a built controller process, ready for reconcilers to be added.
type Runtime struct {
	Manager ctrl.Manager
	Events  *events.Recorder
	Metrics *metrics.Recorder
	// Timeline records the recent reconciles of every controller of the process, served at
	// /debug/reconciles on the metrics address.
	Timeline *timeline.Recorder
	Log      logr.Logger
	opts     *options.Runtime
}

// NewLogger builds the process logger from --log-level and --log-encoding.
func NewLogger(o *options.Runtime) logr.Logger { return newLogger(o, nil) }

// newLogger is NewLogger writing to w (stderr when nil).
func newLogger(o *options.Runtime, w io.Writer) logr.Logger {
	// logr's V(1) is zap's -1 ("debug") and V(2) is -2, which zap's encoders name
	// "Level(-2)" (JSON) and "LEVEL(-2)" (console): upstream's runtime logger prints trace
	// lines so too, and log queries written against upstream look for that name.
	level := map[string]zapcore.Level{"trace": -2, "debug": -1, "info": 0, "error": zapcore.ErrorLevel}[o.LogLevel]
	// As upstream: error lines carry a stack trace at trace and debug level only.
	stack := zapcore.PanicLevel
	if level < zapcore.InfoLevel {
		stack = zapcore.ErrorLevel
	}
	zo := []zap.Opts{zap.Level(level), zap.StacktraceLevel(stack)}
	// ISO-8601 timestamps, as upstream controllers log them (log tooling parses them). Given
	// to the encoder itself: zap.Options.TimeEncoder only reaches the default encoder.
	isoTime := func(c *zapcore.EncoderConfig) { c.EncodeTime = zapcore.ISO8601TimeEncoder }
	if o.LogEncoding == "console" {
		zo = append(zo, zap.ConsoleEncoder(isoTime))
	} else {
		zo = append(zo, zap.JSONEncoder(isoTime))
	}
	if w != nil {
		zo = append(zo, zap.WriteTo(w))
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
	gates := options.CommonGates().With(s.FeatureGates)
	if err := s.Options.Validate(gates.Defaults()); err != nil {
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
	log := newLogger(s.Options, s.LogOutput)
	ctrl.SetLogger(log)
	for name, value := range s.Options.FeatureGates {
		if why := gates[name].NoEffect; why != "" {
			log.Info("feature gate accepted without effect", "gate", name, "value", value, "reason", why)
		}
	}
	cfg := s.RESTConfig
	if cfg == nil {
		var err error
		if cfg, err = RESTConfig(s.Options, s.Name); err != nil {
			return nil, err
		}
	}
	// One object with an unreadable field must not break every read of its kind.
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(lenient.Transport(customGroups(s.Scheme)...))
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
	cacheOpts.DefaultTransform = s.CacheTransform
	if s.WatchConfigs != nil {
		for _, kind := range []string{"ConfigMap", "Secret"} {
			cacheOpts.ByObject[ConfigMetadata(kind)] = cache.ByObject{Label: s.WatchConfigs}
		}
	}
	if !s.Options.WatchAllNamespaces {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{options.RuntimeNamespace(): {}}
	}
	le := s.Options.LeaderElection
	if le.Enabled && le.LeaseNamespace == "" {
		// In a pod controller-runtime finds its namespace itself; out of cluster (e2e runs the
		// controllers as processes) it needs one, and $RUNTIME_NAMESPACE is the pod's anyway.
		le.LeaseNamespace = os.Getenv("RUNTIME_NAMESPACE")
	}
	tl := timeline.New()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        s.Scheme,
		Logger:                        log,
		Metrics:                       metricsserver.Options{BindAddress: s.Options.MetricsAddr, ExtraHandlers: debugHandlers(tl)},
		HealthProbeBindAddress:        s.Options.HealthAddr,
		LeaderElection:                le.Enabled,
		LeaderElectionID:              LeaderElectionID(s.Name, s.Options.WatchLabelSelector),
		LeaderElectionNamespace:       le.LeaseNamespace,
		LeaderElectionReleaseOnCancel: le.ReleaseOnExit,
		LeaseDuration:                 &le.LeaseDuration,
		RenewDeadline:                 &le.RenewDeadline,
		RetryPeriod:                   &le.RetryPeriod,
		Cache:                         cacheOpts,
		Client:                        clientOptions(s.Options.Enabled(gates, "CacheSecretsAndConfigMaps")),
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
	return &Runtime{Manager: mgr, Events: rec, Metrics: m, Timeline: tl, Log: log, opts: s.Options}, nil
}

// ControllerOptions carries --concurrent and the --min/--max-retry-delay backoff to a
// controller built with ctrl.NewControllerManagedBy(...).WithOptions(...), and its work queue:
// controller-runtime's priority queue, with the time each request became ready recorded for
// the timeline.
func (r *Runtime) ControllerOptions() controller.Options {
	return controller.Options{
		MaxConcurrentReconciles: r.opts.Concurrent,
		RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[crreconcile.Request](
			r.opts.MinRetryDelay, r.opts.MaxRetryDelay),
		NewQueue:     r.Timeline.NewQueue,
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
		Timeline:          r.Timeline,
	}
}

// Options are the process's shared command-line options.
func (r *Runtime) Options() *options.Runtime { return r.opts }

func ptrTrue() *bool { b := true; return &b }

// debugHandlers serves Go's profiles under /debug/pprof/ on the metrics address, as upstream
// Flux controllers do, so a CPU or heap profile can be taken from a running controller, and
// the recent reconciles at /debug/reconciles (package timeline).
func debugHandlers(tl *timeline.Recorder) map[string]http.Handler {
	return map[string]http.Handler{
		"/debug/reconciles":    tl.Handler(),
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
}

// customGroups lists the API groups of scheme that are not Kubernetes' built-in ones: the
// custom resources whose responses lenient.Transport repairs.
func customGroups(scheme *runtime.Scheme) []string {
	builtin := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(builtin)
	seen := map[string]bool{}
	var groups []string
	for gvk := range scheme.AllKnownTypes() {
		if gvk.Group == "" || seen[gvk.Group] || builtin.IsGroupRegistered(gvk.Group) {
			continue
		}
		seen[gvk.Group] = true
		groups = append(groups, gvk.Group)
	}
	return groups
}

// clientOptions are the manager client's: Secrets and ConfigMaps are read rarely and can be
// many and large, so they are read from the API instead of cached, unless
// --feature-gates=CacheSecretsAndConfigMaps=true (which needs list and watch on them
// cluster-wide).
func clientOptions(cacheSecrets bool) client.Options {
	if cacheSecrets {
		return client.Options{}
	}
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}}}}
}

// ConfigMetadata is the metadata-only object of a ConfigMap or Secret (kind), for watches
// of the objects Setup.WatchConfigs selects.
func ConfigMetadata(kind string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return m
}
