package main

import (
	"github.com/spf13/pflag"

	"gotk.dev/pkg/git"
	"gotk.dev/pkg/options"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/indexcache"
)

// flags are the command line: upstream source-controller's flag names and defaults.
type flags struct {
	runtime    options.Runtime
	storage    options.Storage
	git        gitFlags
	helmLimits helm.Limits
	helmCache  indexcache.Options
	tokenCache options.TokenCache
	// defaultServiceAccount is the cloud identity of objects naming none, with the
	// ObjectLevelWorkloadIdentity gate.
	defaultServiceAccount string
	// sigstoreTrustedRoot is a private Sigstore's trusted_root.json for keyless verification
	// of objects naming none (gotk's extension; upstream reads cosign's SIGSTORE_* variables).
	sigstoreTrustedRoot string
}

func parseFlags(args []string) (*flags, error) {
	f := &flags{}
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	f.runtime.BindFlags(fs, 2)
	f.storage.BindFlags(fs)
	f.git.bind(fs)
	f.helmLimits.BindFlags(fs)
	f.helmCache.BindFlags(fs)
	f.tokenCache.BindFlags(fs)
	fs.StringVar(&f.defaultServiceAccount, "default-service-account", "", "Default service account to use for workload identity when not specified in resources (with the ObjectLevelWorkloadIdentity feature gate).")
	fs.StringVar(&f.sigstoreTrustedRoot, "sigstore-trusted-root", "", "Path to the trusted_root.json of a private Sigstore (e.g. made with 'cosign trusted-root create') for keyless verification of HelmCharts and of OCIRepositories without spec.verify.trustedRootSecretRef, instead of Sigstore's public root (gotk extension; without it cosign's SIGSTORE_ROOT_FILE and SIGSTORE_REKOR_PUBLIC_KEY are honoured).")
	return f, fs.Parse(args)
}

// gitFlags are source-controller's flags for Git and artifact limits.
type gitFlags struct {
	maxArtifactSize int64
	maxGitFileSize  int64
	sshKex          []string
	sshHostKey      []string
}

func (f *gitFlags) bind(fs *pflag.FlagSet) {
	fs.Int64Var(&f.maxArtifactSize, "artifact-max-size", 100<<20, "The maximum size in bytes of the files packed into an artifact, and of an OCI layer extracted into one (0 means no limit).")
	fs.Int64Var(&f.maxGitFileSize, "git-max-file-size", 100<<20, "The largest file, ignored or not, a Git repository may hold; a clone needs up to this much memory (0 means no limit).")
	fs.StringSliceVar(&f.sshKex, "ssh-kex-algos", nil, "The list of key exchange algorithms to use for ssh connections, arranged from most preferred to the least.")
	fs.StringSliceVar(&f.sshHostKey, "ssh-hostkey-algos", nil, "The list of hostkey algorithms to use for ssh connections, arranged from most preferred to the least.")
}

// client is the Git client of these flags.
func (f *gitFlags) client() *git.Client {
	return git.NewClient(git.ClientOptions{SSHKeyExchanges: f.sshKex, SSHHostKeyAlgorithms: f.sshHostKey})
}
