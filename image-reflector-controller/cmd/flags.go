package main

import (
	"github.com/spf13/pflag"

	"gotk.dev/pkg/options"
)

// flags are image-reflector-controller's command line, with upstream's names and defaults.
type flags struct {
	runtime              options.Runtime
	storagePath          string
	noCrossNamespaceRefs bool
	tokenCache           options.TokenCache
	// defaultServiceAccount is the cloud identity of objects naming none, with the
	// ObjectLevelWorkloadIdentity gate.
	defaultServiceAccount string
}

// featureGates are the gates upstream's image-reflector-controller knows beyond
// options.CommonGates, with its defaults.
var featureGates = options.Gates{
	"FluxStorage":                 {NoEffect: "the tag database is always bbolt"},
	"ObjectLevelWorkloadIdentity": {},
}

func (f *flags) bind(fs *pflag.FlagSet) {
	f.runtime.BindFlags(fs, 4)
	fs.StringVar(&f.storagePath, "storage-path", "/data", "Where to store the persistent database of image metadata.")
	f.tokenCache.BindFlags(fs)
	fs.StringVar(&f.defaultServiceAccount, "default-service-account", "", "Default service account to use for workload identity when not specified in resources (with the ObjectLevelWorkloadIdentity feature gate).")
	fs.BoolVar(&f.noCrossNamespaceRefs, "no-cross-namespace-refs", false, "When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.")

	// Accepted so that upstream's manifests and patches keep working; they tune parts this
	// controller does not have.
	var (
		ignoredInt64  int64
		ignoredUint16 uint16
		ignoredBool   bool
	)
	fs.Int64Var(&ignoredInt64, "storage-value-log-file-size", 1<<28, "Accepted for compatibility; the tag database (bbolt) has no value log.")
	fs.Uint16Var(&ignoredUint16, "gc-interval", 10, "Accepted for compatibility; the tag database (bbolt) reuses freed pages and needs no garbage collection.")
	for _, name := range []string{"aws-autologin-for-ecr", "gcp-autologin-for-gcr", "azure-autologin-for-acr"} {
		fs.BoolVar(&ignoredBool, name, false, "Deprecated upstream and ignored: set spec.provider on the ImageRepository.")
		_ = fs.MarkDeprecated(name, "set spec.provider on the ImageRepository instead")
	}
}
