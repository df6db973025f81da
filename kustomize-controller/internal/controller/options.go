package controller

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gotk.dev/pkg/options"
)

// Options are kustomize-controller's own flags, with upstream's names and defaults.
type Options struct {
	NoCrossNamespaceRefs bool
	NoRemoteBases        bool
	// Cluster says which identities and kubeconfigs Kustomizations may use.
	Cluster options.Cluster
	// ConcurrentSSA bounds the objects of one apply stage applied at once (--concurrent-ssa);
	// zero means 4.
	ConcurrentSSA int
	// OverrideManagers are field managers whose changes to applied objects are reverted, on
	// top of kubectl's (--override-manager).
	OverrideManagers []string
	// CustomStageKinds are applied in a stage of their own after definitions and classes
	// (--custom-apply-stage-kinds, "group/Kind" entries).
	CustomStageKinds []string
	// SOPSAgeSecret names a Secret of the controller's namespace whose age keys decrypt
	// every Kustomization's SOPS documents, besides spec.decryption.secretRef
	// (--sops-age-secret).
	SOPSAgeSecret string
	// RuntimeNamespace is where --sops-age-secret is read; empty means $RUNTIME_NAMESPACE
	// (options.RuntimeNamespace).
	RuntimeNamespace string
	// WatchConfigsSelector selects the ConfigMaps and Secrets whose changes reconcile the
	// Kustomizations that use them in postBuild.substituteFrom or decryption
	// (--watch-configs-label-selector).
	WatchConfigsSelector string

	// StrictSubstitutions fails a build that references a variable with no value and no
	// default (--feature-gates=StrictPostBuildSubstitutions=true); else it expands to "".
	StrictSubstitutions bool
	// DisableFailFast keeps waiting on health checks that report Failed until the timeout
	// (--feature-gates=DisableFailFastBehavior=true).
	DisableFailFast bool
	// AdditiveDependencyCheck makes a dependsOn readyExpr hold in addition to the built-in
	// readiness check (--feature-gates=AdditiveCELDependencyCheck=true).
	AdditiveDependencyCheck bool
	// ObjectLevelWorkloadIdentity is the gate: without it spec.decryption.serviceAccountName
	// stalls, as upstream.
	ObjectLevelWorkloadIdentity bool
	// DefaultDecryptionServiceAccount is the service account whose cloud identity decrypts
	// the SOPS keys of Kustomizations naming none in spec.decryption.serviceAccountName,
	// with the gate (--default-decryption-service-account): the controller's own identity
	// is then never used for them.
	DefaultDecryptionServiceAccount string
	// TokenCacheMaxSize and TokenCacheMaxDuration bound the cache of cloud credentials
	// obtained for service accounts (--token-cache-max-size, --token-cache-max-duration).
	TokenCacheMaxSize     int
	TokenCacheMaxDuration time.Duration
}

// BindFlags registers the flags.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	o.Cluster.BindFlags(fs)
	fs.BoolVar(&o.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.")
	fs.BoolVar(&o.NoRemoteBases, "no-remote-bases", false, "Disallow remote bases usage in Kustomize overlays. When this flag is enabled, all resources must refer to local files included in the source artifact.")
	fs.IntVar(&o.ConcurrentSSA, "concurrent-ssa", 4, "The number of concurrent server-side apply operations.")
	fs.StringSliceVar(&o.OverrideManagers, "override-manager", nil, "Field manager disallowed to perform changes on managed resources.")
	fs.StringSliceVar(&o.CustomStageKinds, "custom-apply-stage-kinds", nil, "A comma-separated list of GroupKind (e.g. 'rbac.authorization.k8s.io/Role,some.group.io/SomeResource') resources to be applied in a custom stage during server-side apply running after CRDs and before all namespaced resources not in this list.")
	fs.StringVar(&o.SOPSAgeSecret, "sops-age-secret", "", "The name of a Kubernetes secret in the RUNTIME_NAMESPACE containing a SOPS age decryption key for fallback usage.")
	fs.StringVar(&o.WatchConfigsSelector, "watch-configs-label-selector", "reconcile.fluxcd.io/watch=Enabled", "Watch for ConfigMaps and Secrets with matching labels.")
	fs.StringVar(&o.DefaultDecryptionServiceAccount, "default-decryption-service-account", "", "Default service account used for decryption. This is used when no service account is specified in the object and the ObjectLevelWorkloadIdentity feature gate is enabled.")
	fs.IntVar(&o.TokenCacheMaxSize, "token-cache-max-size", 100, "The maximum size of the cache in number of tokens.")
	fs.DurationVar(&o.TokenCacheMaxDuration, "token-cache-max-duration", time.Hour, "The maximum duration for which a token is considered valid in the cache.")
}

// Validate checks what flag parsing cannot.
func (o *Options) Validate() error {
	if o.ConcurrentSSA < 0 {
		return fmt.Errorf("--concurrent-ssa must be at least 1, got %d", o.ConcurrentSSA)
	}
	if _, err := o.customStageKinds(); err != nil {
		return err
	}
	if _, err := o.ConfigSelector(); err != nil {
		return err
	}
	return nil
}

// ConfigSelector parses --watch-configs-label-selector; nil when it is empty (no watch).
func (o *Options) ConfigSelector() (labels.Selector, error) {
	if o.WatchConfigsSelector == "" {
		return nil, nil
	}
	sel, err := labels.Parse(o.WatchConfigsSelector)
	if err != nil {
		return nil, fmt.Errorf("--watch-configs-label-selector %q: %w", o.WatchConfigsSelector, err)
	}
	return sel, nil
}

// customStageKinds parses --custom-apply-stage-kinds.
func (o *Options) customStageKinds() ([]schema.GroupKind, error) {
	out := make([]schema.GroupKind, 0, len(o.CustomStageKinds))
	for _, s := range o.CustomStageKinds {
		group, kind, ok := strings.Cut(strings.TrimSpace(s), "/")
		if !ok {
			group, kind = "", group // a core kind: "ConfigMap"
		}
		if kind == "" {
			return nil, fmt.Errorf("--custom-apply-stage-kinds: %q is not group/Kind", s)
		}
		out = append(out, schema.GroupKind{Group: group, Kind: kind})
	}
	return out, nil
}

// FeatureGates are the gates kustomize-controller accepts: upstream's names, with what they
// do here.
func FeatureGates() options.Gates {
	return options.Gates{
		"StrictPostBuildSubstitutions": {},
		"DisableFailFastBehavior":      {},
		"AdditiveCELDependencyCheck":   {},
		// spec.decryption.serviceAccountName and --default-decryption-service-account.
		"ObjectLevelWorkloadIdentity":    {},
		"DisableStatusPollerCache":       {Default: true, NoEffect: "health checks read a watch cache holding only the objects waited on"},
		"GroupChangeLog":                 {NoEffect: "change sets are logged as one line per reconcile"},
		"CancelHealthCheckOnNewRevision": {NoEffect: "a new revision always supersedes the health checks of the previous one"},
		"ExternalArtifact":               {NoEffect: "the ExternalArtifact source kind is not supported"},
	}
}

// ApplyGates sets the options the feature gates of rt decide.
func (o *Options) ApplyGates(rt *options.Runtime) {
	gates := FeatureGates()
	o.StrictSubstitutions = rt.Enabled(gates, "StrictPostBuildSubstitutions")
	o.DisableFailFast = rt.Enabled(gates, "DisableFailFastBehavior")
	o.AdditiveDependencyCheck = rt.Enabled(gates, "AdditiveCELDependencyCheck")
	o.ObjectLevelWorkloadIdentity = rt.Enabled(gates, "ObjectLevelWorkloadIdentity")
}
