package main

import (
	"io"
	"testing"
	"time"

	"gotk.dev/pkg/options"

	"github.com/spf13/pflag"
)

// TestUpstreamFlags: the flags of upstream's image-automation-controller Deployment and its
// documented feature gates are accepted, and the Git gates reach the controller options.
func TestUpstreamFlags(t *testing.T) {
	parse := func(args ...string) flags {
		t.Helper()
		var f flags
		fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.bind(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := f.runtime.Validate(options.CommonGates().With(featureGates).Defaults()); err != nil {
			t.Fatal(err)
		}
		f.gates()
		return f
	}
	f := parse("--events-addr=http://notification-controller.flux-system.svc.cluster.local./",
		"--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election",
		"--concurrent=6", "--no-cross-namespace-refs=true", "--ssh-kex-algos=curve25519-sha256",
		"--ssh-hostkey-algos=ssh-ed25519", "--default-service-account=default")
	if !f.controller.NoCrossNamespaceRefs || !f.controller.ForcePushBranch || !f.controller.ShallowClone || f.runtime.Concurrent != 6 {
		t.Fatalf("defaults: %+v", f.controller)
	}
	if f.objectLevelIdentity || f.defaultServiceAccount != "default" || f.tokenCache.MaxSize != 100 || f.tokenCache.MaxDuration != time.Hour {
		t.Fatalf("identity defaults: gate %v, default SA %q, token cache %+v", f.objectLevelIdentity, f.defaultServiceAccount, f.tokenCache)
	}
	f = parse("--feature-gates=GitForcePushBranch=false,GitShallowClone=false,GitAllBranchReferences=true,CacheSecretsAndConfigMaps=true,ObjectLevelWorkloadIdentity=true",
		"--token-cache-max-size=7", "--token-cache-max-duration=10m")
	if f.controller.ForcePushBranch || f.controller.ShallowClone {
		t.Fatalf("gates off: %+v", f.controller)
	}
	if !f.objectLevelIdentity || f.tokenCache.MaxSize != 7 || f.tokenCache.MaxDuration != 10*time.Minute {
		t.Fatalf("identity flags: gate %v, token cache %+v", f.objectLevelIdentity, f.tokenCache)
	}
	f.runtime.FeatureGates["NoSuchGate"] = true
	if err := f.runtime.Validate(options.CommonGates().With(featureGates).Defaults()); err == nil {
		t.Fatal("an unknown feature gate was accepted")
	}
}
