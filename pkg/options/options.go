// Package options holds the command-line options every controller shares, bound to the flag
// names and defaults of upstream Flux so that install manifests and runbooks carry over.
package options

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"
)

// Runtime is the option set of every controller process.
type Runtime struct {
	MetricsAddr string
	HealthAddr  string
	EventsAddr  string

	Concurrent        int
	RequeueDependency time.Duration

	LeaderElection LeaderElection

	WatchAllNamespaces bool
	WatchLabelSelector string

	KubeAPIQPS   float32
	KubeAPIBurst int
	Kubeconfig   string

	MinRetryDelay            time.Duration
	MaxRetryDelay            time.Duration
	IntervalJitterPercentage uint8

	LogLevel    string
	LogEncoding string

	FeatureGates map[string]bool
}

// LeaderElection configures the Lease-based leader election of a controller.
type LeaderElection struct {
	Enabled        bool
	LeaseDuration  time.Duration
	RenewDeadline  time.Duration
	RetryPeriod    time.Duration
	ReleaseOnExit  bool
	LeaseNamespace string
}

// BindFlags registers the shared flags with their upstream names and defaults.
// defaultConcurrent differs per controller upstream (source 2, kustomize 4, ...).
func (o *Runtime) BindFlags(fs *pflag.FlagSet, defaultConcurrent int) {
	fs.StringVar(&o.MetricsAddr, "metrics-addr", ":8080", "The address the metric endpoint binds to.")
	fs.StringVar(&o.HealthAddr, "health-addr", ":9440", "The address the health endpoint binds to.")
	fs.StringVar(&o.EventsAddr, "events-addr", "", "The address of the events receiver (notification-controller).")
	fs.IntVar(&o.Concurrent, "concurrent", defaultConcurrent, "The number of concurrent reconciles per kind.")
	fs.DurationVar(&o.RequeueDependency, "requeue-dependency", 30*time.Second, "The interval at which failing dependencies are reevaluated.")

	fs.BoolVar(&o.LeaderElection.Enabled, "enable-leader-election", false, "Enable leader election for the controller manager, ensuring only one active instance.")
	fs.DurationVar(&o.LeaderElection.LeaseDuration, "leader-election-lease-duration", 35*time.Second, "Interval at which non-leader candidates will wait to force acquire leadership (duration string).")
	fs.DurationVar(&o.LeaderElection.RenewDeadline, "leader-election-renew-deadline", 30*time.Second, "Duration that the leading controller manager will retry refreshing leadership before giving up (duration string).")
	fs.DurationVar(&o.LeaderElection.RetryPeriod, "leader-election-retry-period", 5*time.Second, "Duration the LeaderElector clients should wait between tries of actions (duration string).")
	fs.BoolVar(&o.LeaderElection.ReleaseOnExit, "leader-election-release-on-cancel", true, "Release the leader lease when the manager stops, so a new leader takes over at once.")

	fs.BoolVar(&o.WatchAllNamespaces, "watch-all-namespaces", true, "Watch for custom resources in all namespaces, if set to false it will only watch the runtime namespace.")
	fs.StringVar(&o.WatchLabelSelector, "watch-label-selector", "", "Watch for resources with matching labels e.g. 'sharding.fluxcd.io/shard=shard1'.")

	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", 50.0, "The maximum queries-per-second of requests sent to the Kubernetes API.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", 300, "The maximum burst queries-per-second of requests sent to the Kubernetes API.")
	if fs.Lookup("kubeconfig") == nil {
		fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "Path to a kubeconfig. Only required if out-of-cluster (defaults to $KUBECONFIG, then in-cluster).")
	}

	fs.DurationVar(&o.MinRetryDelay, "min-retry-delay", 750*time.Millisecond, "The minimum amount of time for which an object being reconciled will have to wait before a retry.")
	fs.DurationVar(&o.MaxRetryDelay, "max-retry-delay", 15*time.Minute, "The maximum amount of time for which an object being reconciled will have to wait before a retry.")
	fs.Uint8Var(&o.IntervalJitterPercentage, "interval-jitter-percentage", 5, "Percentage of jitter to apply to interval durations. A value of 10 will apply a jitter of +/-10% to the interval duration. It cannot be negative, and must be less than 100.")

	fs.StringVar(&o.LogLevel, "log-level", "info", "Log verbosity level. Can be one of 'trace', 'debug', 'info', 'error'.")
	fs.StringVar(&o.LogEncoding, "log-encoding", "json", "Log encoding format. Can be 'json' or 'console'.")

	fs.Var(featureGatesValue{&o.FeatureGates}, "feature-gates", "A comma separated list of key=value pairs defining the state of experimental features.")
}

// Validate checks values that flag parsing alone cannot.
func (o *Runtime) Validate(knownGates map[string]bool) error {
	if o.Concurrent < 1 {
		return fmt.Errorf("--concurrent must be at least 1, got %d", o.Concurrent)
	}
	if o.IntervalJitterPercentage >= 100 {
		return fmt.Errorf("--interval-jitter-percentage must be less than 100, got %d", o.IntervalJitterPercentage)
	}
	if o.MinRetryDelay <= 0 || o.MaxRetryDelay < o.MinRetryDelay {
		return fmt.Errorf("--min-retry-delay (%s) must be positive and at most --max-retry-delay (%s)", o.MinRetryDelay, o.MaxRetryDelay)
	}
	if _, err := o.LabelSelector(); err != nil {
		return err
	}
	switch o.LogLevel {
	case "trace", "debug", "info", "error":
	default:
		return fmt.Errorf("--log-level must be one of trace, debug, info, error; got %q", o.LogLevel)
	}
	switch o.LogEncoding {
	case "json", "console":
	default:
		return fmt.Errorf("--log-encoding must be json or console; got %q", o.LogEncoding)
	}
	for gate := range o.FeatureGates {
		if _, ok := knownGates[gate]; !ok {
			return fmt.Errorf("--feature-gates: unknown feature gate %q", gate)
		}
	}
	return nil
}

// LabelSelector parses --watch-label-selector (an empty selector matches everything).
func (o *Runtime) LabelSelector() (labels.Selector, error) {
	sel, err := labels.Parse(o.WatchLabelSelector)
	if err != nil {
		return nil, fmt.Errorf("--watch-label-selector %q: %w", o.WatchLabelSelector, err)
	}
	return sel, nil
}

// RuntimeNamespace is the namespace the controller runs in ($RUNTIME_NAMESPACE, set by the
// install manifests through the downward API), watched alone when --watch-all-namespaces=false.
func RuntimeNamespace() string {
	if ns := os.Getenv("RUNTIME_NAMESPACE"); ns != "" {
		return ns
	}
	return "flux-system"
}
