package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"gotk.dev/cli/pkg/bootstrap"
	"gotk.dev/cli/pkg/sshkey"
)

// bootstrapCommands is flux bootstrap with its providers: git (any Git server), and github,
// gitlab, gitea and bitbucket-server, which also create the repository and the deploy key
// through the host's API. The work is done by gotk.dev/cli/pkg/bootstrap; these commands
// turn flags into its options.
func bootstrapCommands(c *Command) []*cobra.Command {
	f := &bootstrapFlags{keyOpts: sshkey.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Deploy Flux on a cluster the GitOps way.",
		Long: `The bootstrap sub-commands push the Flux manifests to a Git repository
and deploy Flux on the cluster.`,
		Args: cobra.NoArgs,
	}
	f.bindFlags(cmd)
	cmd.AddCommand(newBootstrapGitCommand(c, f))
	for _, h := range bootstrapHosts() {
		cmd.AddCommand(newBootstrapHostCommand(c, f, h))
	}
	return []*cobra.Command{cmd}
}

// bootstrapFlags are the flags every bootstrap provider shares (persistent on bootstrap).
type bootstrapFlags struct {
	install           installFlags
	branch            string
	secretName        string
	caFile            string
	privateKeyFile    string
	keyOpts           sshkey.Options
	sshHostname       string
	authorName        string
	authorEmail       string
	appendix          string
	recurseSubmodules bool
	tokenAuth         bool
	gpgKeyRing        string
	gpgPassphrase     string
	gpgKeyID          string
	force             bool
}

func (f *bootstrapFlags) bindFlags(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	f.install.bindFlags(fs)
	fs.StringVar(&f.branch, "branch", "main", "Git branch")
	fs.StringVar(&f.secretName, "secret-name", "flux-system", "name of the secret the sync credentials can be found in or stored to")
	fs.StringVar(&f.caFile, "ca-file", "", "path to TLS CA file used for validating self-signed certificates")
	fs.StringVar(&f.privateKeyFile, "private-key-file", "", "path to a private key file used for authenticating to the Git SSH server")
	fs.StringVar(&f.keyOpts.Algorithm, "ssh-key-algorithm", f.keyOpts.Algorithm, "SSH public key algorithm (rsa, ecdsa, ed25519)")
	fs.StringVar(&f.keyOpts.ECDSACurve, "ssh-ecdsa-curve", f.keyOpts.ECDSACurve, "SSH ECDSA public key curve (p256, p384, p521)")
	fs.IntVar(&f.keyOpts.RSABits, "ssh-rsa-bits", f.keyOpts.RSABits, "SSH RSA public key bit size (multiplies of 8, min 1024)")
	fs.StringVar(&f.sshHostname, "ssh-hostname", "", "SSH hostname (host[:port]), to be used when the SSH host differs from the HTTPS one")
	fs.StringVar(&f.authorName, "author-name", "Flux", "author name for Git commits")
	fs.StringVar(&f.authorEmail, "author-email", "", "author email for Git commits")
	fs.StringVar(&f.appendix, "commit-message-appendix", "", "string to add to the commit messages, e.g. '[ci skip]'")
	fs.BoolVar(&f.recurseSubmodules, "recurse-submodules", false, "when enabled, configures the GitRepository source to initialize and include Git submodules in the artifact it produces")
	fs.BoolVar(&f.tokenAuth, "token-auth", false, "when enabled, the personal access token will be used instead of the SSH deploy key")
	fs.StringVar(&f.gpgKeyRing, "gpg-key-ring", "", "path to GPG key ring for signing commits")
	fs.StringVar(&f.gpgPassphrase, "gpg-passphrase", "", "passphrase for decrypting GPG private key")
	fs.StringVar(&f.gpgKeyID, "gpg-key-id", "", "key id for selecting a particular key")
	fs.BoolVar(&f.force, "force", false, "override existing Flux installation if it's managed by a different tool such as Helm")
}

// newBootstrapper validates the shared flags and fills what every provider shares; the
// provider sets the remote, the sync URL and the credentials.
func (f *bootstrapFlags) newBootstrapper(ctx context.Context, c *Command, repoPath string, interval time.Duration) (*bootstrap.Bootstrapper, error) {
	opts, err := f.install.options(c.Global.Namespace)
	if err != nil {
		return nil, err
	}
	p, err := bootstrap.CleanPath(repoPath)
	if err != nil {
		return nil, err
	}
	if err := f.keyOpts.Validate(); err != nil {
		return nil, err
	}
	signer, err := bootstrap.LoadGPGSigner(f.gpgKeyRing, f.gpgPassphrase, f.gpgKeyID)
	if err != nil {
		return nil, err
	}
	var ca []byte
	if f.caFile != "" {
		if ca, err = os.ReadFile(f.caFile); err != nil {
			return nil, fmt.Errorf("read --ca-file: %w", err)
		}
	}
	b := &bootstrap.Bootstrapper{
		Options: bootstrap.Options{
			Install: opts, Branch: f.branch, Path: p, Interval: interval, SecretName: f.secretName,
			RecurseSubmodules: f.recurseSubmodules, Author: bootstrap.Author{Name: f.authorName, Email: f.authorEmail},
			CommitMessageAppendix: f.appendix, Signer: signer, Timeout: c.Global.Timeout,
		},
		Log:         c.Log(),
		Credentials: bootstrap.Credentials{KeyOpts: f.keyOpts, CACert: ca},
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	// Check the cluster before anything is created on a Git host or pushed.
	kube, _, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.confirmTakeOver(ctx, kube, f.force); err != nil {
		return nil, err
	}
	b.Kube = kube
	return b, nil
}
