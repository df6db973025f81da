package controller

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"gotk.dev/pkg/options"
)

// TestUpstreamFeatureGatesAccepted: every feature gate upstream's kustomize-controller
// accepts is accepted (install patches written for upstream keep working); an unknown gate
// is still an error naming it.
func TestUpstreamFeatureGatesAccepted(t *testing.T) {
	upstream := []string{"CacheSecretsAndConfigMaps", "DisableStatusPollerCache", "DisableFailFastBehavior",
		"StrictPostBuildSubstitutions", "GroupChangeLog", "AdditiveCELDependencyCheck", "ExternalArtifact",
		"CancelHealthCheckOnNewRevision", "ObjectLevelWorkloadIdentity"}
	known := options.CommonGates().With(FeatureGates()).Defaults()
	for _, gate := range upstream {
		if err := parseGates(t, gate+"=true").Validate(known); err != nil {
			t.Errorf("%s: %v", gate, err)
		}
	}
	if err := parseGates(t, "NoSuchGate=true").Validate(known); err == nil || !strings.Contains(err.Error(), "NoSuchGate") {
		t.Errorf("unknown gate: %v", err)
	}
	var o Options
	o.ApplyGates(parseGates(t, "StrictPostBuildSubstitutions=true,DisableFailFastBehavior=true,AdditiveCELDependencyCheck=true"))
	if !o.StrictSubstitutions || !o.DisableFailFast || !o.AdditiveDependencyCheck {
		t.Errorf("gates did not reach the options: %+v", o)
	}
}

func parseGates(t *testing.T, gates string) *options.Runtime {
	t.Helper()
	var o options.Runtime
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs, 1)
	if err := fs.Parse([]string{"--feature-gates=" + gates}); err != nil {
		t.Fatal(err)
	}
	return &o
}

// TestUpstreamFlagsAccepted: the flags of upstream's kustomize-controller that install
// patches carry are accepted.
func TestUpstreamFlagsAccepted(t *testing.T) {
	var o Options
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs)
	err := fs.Parse([]string{
		"--watch-configs-label-selector=team=a", "--concurrent-ssa=8", "--override-manager=helm,argocd",
		"--custom-apply-stage-kinds=rbac.authorization.k8s.io/Role,ConfigMap", "--sops-age-secret=sops-age",
		"--default-decryption-service-account=kms", "--default-kubeconfig-service-account=spoke",
		"--insecure-kubeconfig-tls", "--insecure-kubeconfig-exec", "--default-service-account=tenant",
		"--token-cache-max-size=10", "--token-cache-max-duration=30m", "--no-remote-bases", "--no-cross-namespace-refs",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if kinds, _ := o.customStageKinds(); len(kinds) != 2 || kinds[0].Kind != "Role" || kinds[1].Group != "" {
		t.Errorf("custom stage kinds = %v", kinds)
	}
	o.WatchConfigsSelector = "a b c"
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--watch-configs-label-selector") {
		t.Errorf("bad selector: %v", err)
	}
}
