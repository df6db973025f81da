package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gotk.dev/pkg/git"
)

// bootstrapGitHubTokenEnv holds the personal access token bootstrap github uses.
const bootstrapGitHubTokenEnv = "GITHUB_TOKEN"

// bootstrapGitHubFlags are bootstrap github's own flags.
type bootstrapGitHubFlags struct {
	owner        string
	repository   string
	interval     time.Duration
	personal     bool
	private      bool
	hostname     string
	path         string
	readWriteKey bool
}

func newBootstrapGitHubCommand(c *Command, bf *bootstrapFlags) *cobra.Command {
	f := bootstrapGitHubFlags{}
	cmd := &cobra.Command{
		Use:   "github",
		Short: "Deploy Flux on a cluster connected to a GitHub repository",
		Long: `The bootstrap github command creates the GitHub repository if it doesn't exist and
commits the Flux manifests to the specified branch.
Then it configures the target cluster to synchronize with that repository.
If the Flux components are present on the cluster,
the bootstrap command will perform an upgrade if needed.`,
		Example: `  # Create a GitHub personal access token and export it as an env var
  export GITHUB_TOKEN=<my-token>

  # Run bootstrap for a private repository owned by a GitHub organization
  flux bootstrap github --owner=<organization> --repository=<repository name> --path=clusters/my-cluster

  # Run bootstrap for a private repository owned by a GitHub user
  flux bootstrap github --owner=<user> --repository=<repository name> --personal --path=clusters/my-cluster

  # Run bootstrap for a repository on GitHub Enterprise
  flux bootstrap github --owner=<organization> --repository=<repository name> --hostname=<domain> --path=clusters/my-cluster`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			run, err := bf.newRun(c, f.path, f.interval)
			if err != nil {
				return err
			}
			if f.owner == "" || f.repository == "" {
				return errors.New("--owner and --repository are required")
			}
			token, err := bootstrapGitHubToken(c)
			if err != nil {
				return err
			}
			api, err := newBootstrapGitHubAPI(f.hostname, token, run.creds.CACert)
			if err != nil {
				return err
			}
			// Check the cluster before creating anything on GitHub.
			if _, _, err := c.connect(cmd.Context()); err != nil {
				return err
			}
			if err := f.configure(cmd.Context(), c, bf, run, api); err != nil {
				return err
			}
			return run.run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.owner, "owner", "", "GitHub user or organization name")
	fs.StringVar(&f.repository, "repository", "", "GitHub repository name")
	fs.DurationVar(&f.interval, "interval", time.Minute, "sync interval")
	fs.BoolVar(&f.personal, "personal", false, "if true, the owner is assumed to be a GitHub user; otherwise an org")
	fs.BoolVar(&f.private, "private", true, "if true, the repository is setup or configured as private")
	fs.StringVar(&f.hostname, "hostname", "github.com", "GitHub hostname")
	fs.StringVar(&f.path, "path", "", "path relative to the repository root, when specified the cluster sync will be scoped to this path")
	fs.BoolVar(&f.readWriteKey, "read-write-key", false, "if true, the deploy key is configured with read/write permissions")
	return cmd
}

// bootstrapGitHubToken reads $GITHUB_TOKEN, else asks for the token on the terminal (stdin).
func bootstrapGitHubToken(c *Command) (string, error) {
	if tok := strings.TrimSpace(os.Getenv(bootstrapGitHubTokenEnv)); tok != "" {
		return tok, nil
	}
	if c.In != nil {
		fmt.Fprint(c.Err, "Please enter your GitHub personal access token (PAT): ")
		line, _ := bufio.NewReader(c.In).ReadString('\n')
		fmt.Fprintln(c.Err)
		if tok := strings.TrimSpace(line); tok != "" {
			return tok, nil
		}
	}
	return "", fmt.Errorf("no GitHub token: set %s to a personal access token", bootstrapGitHubTokenEnv)
}

// configure finds or creates the repository, then sets the run up: clone and push over
// HTTPS with the token; the cluster syncs over SSH with a deploy key, or over HTTPS with the
// token under --token-auth.
func (f bootstrapGitHubFlags) configure(ctx context.Context, c *Command, bf *bootstrapFlags, run *bootstrapRun, api *bootstrapGitHubAPI) error {
	log := c.Log()
	log.Actionf("connecting to %s", f.hostname)
	webURL := "https://" + f.hostname + "/" + f.owner + "/" + f.repository
	repo, err := api.getRepo(ctx, f.owner, f.repository)
	switch {
	case isGitHubNotFound(err):
		if repo, err = api.createRepo(ctx, f.owner, f.repository, f.personal, f.private); err != nil {
			return fmt.Errorf("failed to create new Git repository %q: %w", webURL, err)
		}
		log.Successf("repository %q created", webURL)
	case err != nil:
		return fmt.Errorf("failed to get Git repository %q: %w", webURL, err)
	}
	cloneURL, err := url.Parse(repo.CloneURL)
	if err != nil || cloneURL.Host == "" {
		return fmt.Errorf("repository %q has no usable clone URL %q", webURL, repo.CloneURL)
	}
	token := api.token
	auth, err := git.NewAuthOptions(cloneURL, map[string][]byte{
		git.KeyUsername: []byte("git"), git.KeyPassword: []byte(token), git.KeyCACert: run.creds.CACert,
	})
	if err != nil {
		return err
	}
	run.remote = &bootstrapRemote{url: cloneURL.String(), auth: auth, client: git.NewClient(git.ClientOptions{})}
	if bf.tokenAuth {
		run.sync.URL = cloneURL.String()
		run.creds.Username, run.creds.Password = "git", token
		return nil
	}

	sshURL := bootstrapSSHURL(repo.SSHURL)
	if sshURL == "" {
		sshURL = "ssh://git@" + f.hostname + "/" + f.owner + "/" + f.repository
	}
	u, err := url.Parse(sshURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("repository %q has no usable SSH URL %q", webURL, repo.SSHURL)
	}
	if bf.sshHostname != "" {
		u.Host = bf.sshHostname
	}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "22")
	}
	run.sync.URL = u.String()
	run.creds.SSH, run.creds.HostPort = true, hostport
	if bf.privateKeyFile != "" {
		if run.creds.PrivateKey, err = os.ReadFile(bf.privateKeyFile); err != nil {
			return fmt.Errorf("read --private-key-file: %w", err)
		}
	}
	title := strings.Join([]string{run.install.Namespace, run.branch, run.sync.Secret, "./" + run.path}, "-")
	run.onPublicKey = func(ctx context.Context, publicKey []byte) error {
		changed, err := f.reconcileDeployKey(ctx, api, bootstrapDeployKey{Title: title, Key: string(publicKey), ReadOnly: !f.readWriteKey})
		if err != nil {
			return fmt.Errorf("failed to configure the deploy key of %q: %w", webURL, err)
		}
		if changed {
			log.Successf("configured deploy key %q for %q", title, webURL)
		}
		return nil
	}
	return nil
}

// reconcileDeployKey makes want the deploy key titled want.Title: an existing one with
// another key or permission is replaced. It reports whether anything changed.
func (f bootstrapGitHubFlags) reconcileDeployKey(ctx context.Context, api *bootstrapGitHubAPI, want bootstrapDeployKey) (bool, error) {
	keys, err := api.listDeployKeys(ctx, f.owner, f.repository)
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if k.Title != want.Title {
			continue
		}
		if sameBootstrapAuthorizedKey(k.Key, want.Key) && k.ReadOnly == want.ReadOnly {
			return false, nil
		}
		if err := api.deleteDeployKey(ctx, f.owner, f.repository, k.ID); err != nil {
			return false, err
		}
	}
	return true, api.addDeployKey(ctx, f.owner, f.repository, want)
}

// sameBootstrapAuthorizedKey compares two authorized_keys lines by type and key, ignoring comments.
func sameBootstrapAuthorizedKey(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	return len(fa) >= 2 && len(fb) >= 2 && fa[0] == fb[0] && fa[1] == fb[1]
}
