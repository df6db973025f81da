package main

import (
	"time"

	"github.com/spf13/pflag"

	"gotk.dev/image-automation-controller/internal/controller"
	"gotk.dev/pkg/options"
)

// flags are image-automation-controller's command line, with upstream's names and defaults.
type flags struct {
	runtime    options.Runtime
	controller controller.Options
}

// Feature gates upstream's image-automation-controller knows, with its defaults (beyond
// options.CommonGates). GitForcePushBranch and GitShallowClone change what this controller
// does.
const (
	gateForcePushBranch = "GitForcePushBranch"
	gateShallowClone    = "GitShallowClone"
)

var featureGates = options.Gates{
	gateForcePushBranch:      {Default: true},
	gateShallowClone:         {Default: true},
	"GitAllBranchReferences": {Default: true, NoEffect: "the push branch is always read with every branch reference"},
	"GitSparseCheckout":      {NoEffect: "the whole repository is checked out"},
}

func (f *flags) bind(fs *pflag.FlagSet) {
	f.runtime.BindFlags(fs, 4)
	fs.BoolVar(&f.controller.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.")

	// Accepted so that upstream's manifests and patches keep working.
	var (
		ignoredStrings []string
		ignoredString  string
		ignoredInt     int
		ignoredDur     time.Duration
	)
	fs.StringSliceVar(&ignoredStrings, "ssh-kex-algos", nil, "Accepted for compatibility; the SSH client negotiates Go's default key exchange algorithms.")
	fs.StringSliceVar(&ignoredStrings, "ssh-hostkey-algos", nil, "Accepted for compatibility; host key algorithms follow the known_hosts entries of the Secret.")
	fs.StringVar(&ignoredString, "default-service-account", "", "Default service account to use for workload identity when not specified in resources (workload identity is not supported yet).")
	fs.IntVar(&ignoredInt, "token-cache-max-size", 100, "Accepted for compatibility; cloud Git tokens are not used yet.")
	fs.DurationVar(&ignoredDur, "token-cache-max-duration", time.Hour, "Accepted for compatibility; cloud Git tokens are not used yet.")
}

// gates copies the Git feature gates into the controller options (after parsing).
func (f *flags) gates() {
	f.controller.ForcePushBranch = f.runtime.Enabled(featureGates, gateForcePushBranch)
	f.controller.ShallowClone = f.runtime.Enabled(featureGates, gateShallowClone)
}
