package main

import (
	"io"
	"testing"

	"gotk.dev/pkg/options"

	"github.com/spf13/pflag"
)

// TestUpstreamFlags: the flags of upstream's image-reflector-controller Deployment and of the
// patches its docs show are accepted, and unknown feature gates are refused.
func TestUpstreamFlags(t *testing.T) {
	var f flags
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.bind(fs)
	err := fs.Parse([]string{
		"--events-addr=http://notification-controller.flux-system.svc.cluster.local./",
		"--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election",
		"--storage-path=/data", "--storage-value-log-file-size=1073741824", "--gc-interval=5", "--concurrent=10",
		"--no-cross-namespace-refs=true", "--default-service-account=default", "--aws-autologin-for-ecr",
		"--token-cache-max-size=50", "--feature-gates=CacheSecretsAndConfigMaps=true,ObjectLevelWorkloadIdentity=false",
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.storagePath != "/data" || !f.noCrossNamespaceRefs || f.runtime.Concurrent != 10 {
		t.Fatalf("flags = %+v", f)
	}
	if err := f.runtime.Validate(options.CommonGates().With(featureGates).Defaults()); err != nil {
		t.Fatal(err)
	}
	f.runtime.FeatureGates["NoSuchGate"] = true
	if err := f.runtime.Validate(options.CommonGates().With(featureGates).Defaults()); err == nil {
		t.Fatal("an unknown feature gate was accepted")
	}
}
