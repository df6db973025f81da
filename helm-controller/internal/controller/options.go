package controller

import (
	"fmt"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	"gotk.dev/pkg/options"
)

// Feature gates helm-controller accepts in --feature-gates, with upstream's names and
// defaults. Those marked "no effect" are accepted so that upstream install manifests keep
// working; the package documentation says why each has none.
const (
	// AllowDNSLookups lets templates resolve host names (Helm's getHostByName).
	AllowDNSLookups = "AllowDNSLookups"
	// OOMWatch stops the controller gracefully when its memory nears the cgroup limit.
	OOMWatch = "OOMWatch"
	// DisableChartDigestTracking stops appending "+<digest[0:12]>" to the version of charts
	// from OCIRepositories.
	DisableChartDigestTracking = "DisableChartDigestTracking"
	// AdditiveCELDependencyCheck adds dependsOn[].readyExpr to the Ready check instead of
	// replacing it.
	AdditiveCELDependencyCheck = "AdditiveCELDependencyCheck"
	// DisableConfigWatchers turns the watch on labelled ConfigMaps and Secrets off.
	DisableConfigWatchers = "DisableConfigWatchers"
	// UninstallOnChartNameChange uninstalls a release whose chart changed its name (with
	// the Reinstall chartNameChangeStrategy), as upstream does by default.
	UninstallOnChartNameChange = "UninstallOnChartNameChange"
	// ExternalArtifact allows chartRef of kind ExternalArtifact (no such source kind is
	// served here: such a chartRef stalls with a message).
	ExternalArtifact = "ExternalArtifact"
)

// FeatureGates are the gates helm-controller knows, with upstream's defaults (the common
// ones, CacheSecretsAndConfigMaps and ObjectLevelWorkloadIdentity, come from the SDK).
func FeatureGates() options.Gates {
	return options.Gates{
		AllowDNSLookups:                  {},
		OOMWatch:                         {},
		DisableChartDigestTracking:       {},
		AdditiveCELDependencyCheck:       {},
		DisableConfigWatchers:            {},
		UninstallOnChartNameChange:       {Default: true},
		ExternalArtifact:                 {},
		"DetectDrift":                    {NoEffect: "drift detection is configured per HelmRelease (spec.driftDetection)"},
		"CorrectDrift":                   {NoEffect: "drift correction is configured per HelmRelease (spec.driftDetection.mode)"},
		"AdoptLegacyReleases":            {NoEffect: "v2beta1 release state is not adopted (ignored upstream since v1.5)"},
		"DirectSourceFetch":              {NoEffect: "sources are read from the cache, which a reconcile refreshes past when it lags"},
		"UseHelm3Defaults":               {NoEffect: "the Helm 3 SDK's defaults are the only ones"},
		"CancelHealthCheckOnNewRevision": {NoEffect: "health checks never hold a worker, so a new revision never waits for an old check"},
		"DefaultToRetryOnFailure":        {NoEffect: "the default remediation strategy stays RemediateOnFailure"},
	}
}

// Options are helm-controller's own flags.
type Options struct {
	NoCrossNamespaceRefs bool
	// Cluster says which identities and kubeconfigs HelmReleases may use.
	Cluster options.Cluster
	// WatchConfigsLabelSelector selects the ConfigMaps and Secrets whose changes trigger
	// the HelmReleases referring to them.
	WatchConfigsLabelSelector string
	// SnapshotDigestAlgo is the digest algorithm of status.history (sha256 only).
	SnapshotDigestAlgo string
	// HTTPTimeout bounds one artifact download.
	HTTPTimeout time.Duration
	// OOM watch settings (--feature-gates=OOMWatch=true).
	OOMWatchInterval          time.Duration
	OOMWatchMemoryThreshold   uint8
	OOMWatchMaxMemoryPath     string
	OOMWatchCurrentMemoryPath string
	// Gates are the feature gates in effect.
	Gates map[string]bool
}

// BindFlags registers the flags with upstream's names and defaults.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	o.Cluster.BindFlags(fs)
	fs.BoolVar(&o.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.")
	fs.StringVar(&o.WatchConfigsLabelSelector, "watch-configs-label-selector", meta.LabelKeyWatch+"="+meta.LabelValueWatchEnabled, "Watch for ConfigMaps and Secrets with matching labels.")
	fs.StringVar(&o.SnapshotDigestAlgo, "snapshot-digest-algo", "sha256", "The algorithm to use to calculate the digest of Helm release storage snapshots.")
	fs.DurationVar(&o.HTTPTimeout, "http-timeout", 5*time.Minute, "The timeout of one artifact download over HTTP.")
	fs.DurationVar(&o.OOMWatchInterval, "oom-watch-interval", 500*time.Millisecond, "The interval at which the OOM watcher will check for memory usage. Requires feature gate 'OOMWatch' to be enabled.")
	fs.Uint8Var(&o.OOMWatchMemoryThreshold, "oom-watch-memory-threshold", 95, "The memory threshold in percentage at which the OOM watcher will trigger a graceful shutdown. Requires feature gate 'OOMWatch' to be enabled.")
	fs.StringVar(&o.OOMWatchMaxMemoryPath, "oom-watch-max-memory-path", "", "The path to the cgroup memory limit file. Requires feature gate 'OOMWatch' to be enabled. If not set, the path will be automatically detected.")
	fs.StringVar(&o.OOMWatchCurrentMemoryPath, "oom-watch-current-memory-path", "", "The path to the cgroup current memory usage file. Requires feature gate 'OOMWatch' to be enabled. If not set, the path will be automatically detected.")
}

// Validate checks the flag values and records the feature gates of rt.
func (o *Options) Validate(rt *options.Runtime) error {
	if o.SnapshotDigestAlgo != "sha256" {
		return fmt.Errorf("--snapshot-digest-algo=%s: only sha256 is supported", o.SnapshotDigestAlgo)
	}
	if _, err := labels.Parse(o.WatchConfigsLabelSelector); err != nil {
		return fmt.Errorf("--watch-configs-label-selector: %w", err)
	}
	if o.OOMWatchMemoryThreshold == 0 || o.OOMWatchMemoryThreshold > 100 {
		return fmt.Errorf("--oom-watch-memory-threshold=%d: must be between 1 and 100", o.OOMWatchMemoryThreshold)
	}
	known := FeatureGates()
	o.Gates = map[string]bool{}
	for gate := range known {
		o.Gates[gate] = rt.Enabled(known, gate)
	}
	return nil
}

// enabled tells whether a feature gate is on (its default when Validate did not run).
func (o *Options) enabled(gate string) bool {
	if on, ok := o.Gates[gate]; ok {
		return on
	}
	return FeatureGates()[gate].Default
}
