package controller

import (
	"testing"

	"github.com/spf13/pflag"

	"gotk.dev/pkg/options"
)

// TestUpstreamFeatureGatesAccepted: every feature gate upstream's source-controller accepts
// is accepted; OptimizedGitClones=false turns the optimized clone off.
func TestUpstreamFeatureGatesAccepted(t *testing.T) {
	known := options.CommonGates().With(FeatureGates()).Defaults()
	for _, gate := range []string{"OptimizedGitClones", "ForceGoGitImplementation", "CacheSecretsAndConfigMaps", "ObjectLevelWorkloadIdentity"} {
		var o options.Runtime
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		o.BindFlags(fs, 1)
		if err := fs.Parse([]string{"--feature-gates=" + gate + "=false"}); err != nil {
			t.Fatal(err)
		}
		if err := o.Validate(known); err != nil {
			t.Errorf("%s: %v", gate, err)
		}
		if gate == "OptimizedGitClones" && o.Enabled(FeatureGates(), gate) {
			t.Error("OptimizedGitClones=false reads as enabled")
		}
	}
}
