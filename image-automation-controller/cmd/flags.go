package main

import (
	"github.com/spf13/pflag"

	"gotk.dev/image-automation-controller/internal/controller"
	"gotk.dev/pkg/options"
)

// flags are image-automation-controller's command line, with upstream's names and defaults.
type flags struct {
	runtime    options.Runtime
	controller controller.Options
	// tokenCache bounds the cache of GitHub App and cloud Git tokens (--token-cache-*).
	tokenCache options.TokenCache
	// defaultServiceAccount is the identity of GitRepositories with a cloud provider and no
	// spec.serviceAccountName, with the ObjectLevelWorkloadIdentity gate.
	defaultServiceAccount string
	// objectLevelIdentity is the ObjectLevelWorkloadIdentity gate, after parsing.
	objectLevelIdentity bool
}

// Feature gates upstream's image-automation-controller knows, with its defaults (beyond
// options.CommonGates). GitForcePushBranch and GitShallowClone change what this controller
// does.
const (
	gateForcePushBranch = "GitForcePushBranch"
	gateShallowClone    = "GitShallowClone"
	// gateObjectLevelIdentity lets a GitRepository's spec.serviceAccountName (provider
	// azure) name the identity the automation clones and pushes as.
	gateObjectLevelIdentity = "ObjectLevelWorkloadIdentity"
)

var featureGates = options.Gates{
	gateForcePushBranch:      {Default: true},
	gateShallowClone:         {Default: true},
	"GitAllBranchReferences": {Default: true, NoEffect: "the push branch is always read with every branch reference"},
	"GitSparseCheckout":      {NoEffect: "the whole repository is checked out"},
	gateObjectLevelIdentity:  {},
}

func (f *flags) bind(fs *pflag.FlagSet) {
	f.runtime.BindFlags(fs, 4)
	fs.BoolVar(&f.controller.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.")

	f.tokenCache.BindFlags(fs)
	fs.StringVar(&f.defaultServiceAccount, "default-service-account", "", "Default service account to use for workload identity when not specified in resources (with the ObjectLevelWorkloadIdentity feature gate).")

	// Accepted so that upstream's manifests and patches keep working.
	var ignoredStrings []string
	fs.StringSliceVar(&ignoredStrings, "ssh-kex-algos", nil, "Accepted for compatibility; the SSH client negotiates Go's default key exchange algorithms.")
	fs.StringSliceVar(&ignoredStrings, "ssh-hostkey-algos", nil, "Accepted for compatibility; host key algorithms follow the known_hosts entries of the Secret.")
}

// gates copies the Git feature gates into the controller options (after parsing).
func (f *flags) gates() {
	f.controller.ForcePushBranch = f.runtime.Enabled(featureGates, gateForcePushBranch)
	f.controller.ShallowClone = f.runtime.Enabled(featureGates, gateShallowClone)
	f.objectLevelIdentity = f.runtime.Enabled(featureGates, gateObjectLevelIdentity)
}
