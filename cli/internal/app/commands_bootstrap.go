package app

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
)

// bootstrapCommands is flux bootstrap with its providers: git (any Git server) and github
// (which also creates the repository and the deploy key through GitHub's API).
func bootstrapCommands(c *Command) []*cobra.Command {
	f := &bootstrapFlags{}
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Deploy Flux on a cluster the GitOps way.",
		Long: `The bootstrap sub-commands push the Flux manifests to a Git repository
and deploy Flux on the cluster.`,
		Args: cobra.NoArgs,
	}
	f.bindFlags(cmd)
	cmd.AddCommand(newBootstrapGitCommand(c, f), newBootstrapGitHubCommand(c, f))
	return []*cobra.Command{cmd}
}

// bootstrapFlags are the flags every bootstrap provider shares (persistent on bootstrap).
type bootstrapFlags struct {
	install           installFlags
	branch            string
	secretName        string
	caFile            string
	privateKeyFile    string
	keyOpts           sshKeyFlags
	sshHostname       string
	authorName        string
	authorEmail       string
	appendix          string
	recurseSubmodules bool
	tokenAuth         bool
}

func (f *bootstrapFlags) bindFlags(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	f.install.bindFlags(fs)
	fs.StringVar(&f.branch, "branch", "main", "Git branch")
	fs.StringVar(&f.secretName, "secret-name", "flux-system", "name of the secret the sync credentials can be found in or stored to")
	fs.StringVar(&f.caFile, "ca-file", "", "path to TLS CA file used for validating self-signed certificates")
	fs.StringVar(&f.privateKeyFile, "private-key-file", "", "path to a private key file used for authenticating to the Git SSH server")
	fs.StringVar(&f.keyOpts.algorithm, "ssh-key-algorithm", "ecdsa", "SSH public key algorithm (rsa, ecdsa, ed25519)")
	fs.StringVar(&f.keyOpts.ecdsaCurve, "ssh-ecdsa-curve", "p384", "SSH ECDSA public key curve (p256, p384, p521)")
	fs.IntVar(&f.keyOpts.rsaBits, "ssh-rsa-bits", 4096, "SSH RSA public key bit size (multiplies of 8, min 1024)")
	fs.StringVar(&f.sshHostname, "ssh-hostname", "", "SSH hostname (host[:port]), to be used when the SSH host differs from the HTTPS one")
	fs.StringVar(&f.authorName, "author-name", "Flux", "author name for Git commits")
	fs.StringVar(&f.authorEmail, "author-email", "", "author email for Git commits")
	fs.StringVar(&f.appendix, "commit-message-appendix", "", "string to add to the commit messages, e.g. '[ci skip]'")
	fs.BoolVar(&f.recurseSubmodules, "recurse-submodules", false, "when enabled, configures the GitRepository source to initialize and include Git submodules in the artifact it produces")
	fs.BoolVar(&f.tokenAuth, "token-auth", false, "when enabled, the personal access token will be used instead of the SSH deploy key")
}

// newRun validates the shared flags and fills what every provider's run shares.
func (f *bootstrapFlags) newRun(c *Command, repoPath string, interval time.Duration) (*bootstrapRun, error) {
	opts, err := f.install.options(c.Global.Namespace)
	if err != nil {
		return nil, err
	}
	p, err := bootstrapRepoPath(repoPath)
	if err != nil {
		return nil, err
	}
	if f.branch == "" || plumbing.NewBranchReferenceName(f.branch).Validate() != nil {
		return nil, fmt.Errorf("invalid --branch %q: not a valid Git branch name", f.branch)
	}
	if errs := validation.IsDNS1123Subdomain(f.secretName); len(errs) > 0 {
		return nil, fmt.Errorf("invalid --secret-name %q: %s", f.secretName, strings.Join(errs, "; "))
	}
	if interval <= 0 {
		return nil, fmt.Errorf("invalid --interval %s: must be positive", interval)
	}
	if err := f.keyOpts.validate(); err != nil {
		return nil, err
	}
	var ca []byte
	if f.caFile != "" {
		if ca, err = os.ReadFile(f.caFile); err != nil {
			return nil, fmt.Errorf("read --ca-file: %w", err)
		}
	}
	return &bootstrapRun{
		c:        c,
		install:  opts,
		branch:   f.branch,
		path:     p,
		author:   bootstrapAuthor{Name: f.authorName, Email: f.authorEmail},
		appendix: f.appendix,
		sync: bootstrapSync{
			Namespace: opts.Namespace, Branch: f.branch, Secret: f.secretName, Interval: interval,
			RecurseSubmodules: f.recurseSubmodules, Path: p,
		},
		creds: bootstrapCredentials{KeyOpts: f.keyOpts, CACert: ca},
	}, nil
}
