package app

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gotk.dev/cli/pkg/bootstrap"
	"gotk.dev/cli/pkg/bootstrap/provider"
)

// bootstrapHost describes one Git host bootstrap knows the API of.
type bootstrapHost struct {
	use, name, short, long, example string
	tokenEnv                        string
	defaultHostname                 string
	// ownerHelp, teamFlag and teamHelp word the flags as upstream does for this host.
	ownerHelp, teamFlag, teamHelp, personalHelp string
	// defaultPermission is given to teams named without one.
	defaultPermission string
	// username is bitbucket-server's --username; deployTokens gitlab's --deploy-token-auth.
	username, deployTokens bool
	// validate checks the flags the host has rules for (GitLab project names).
	validate  func(f *bootstrapHostFlags) error
	newClient func(f *bootstrapHostFlags, token string, ca []byte) (provider.Client, error)
}

// bootstrapHostFlags are the flags of bootstrap github, gitlab, gitea and bitbucket-server.
type bootstrapHostFlags struct {
	owner, repository string
	teams             []string
	personal, private bool
	visibility        string
	interval          time.Duration
	hostname          string
	path              string
	readWriteKey      bool
	reconcile         bool
	username          string
	deployTokenAuth   bool
}

func newBootstrapHostCommand(c *Command, bf *bootstrapFlags, h bootstrapHost) *cobra.Command {
	f := &bootstrapHostFlags{}
	cmd := &cobra.Command{
		Use: h.use, Short: h.short, Long: h.long, Example: h.example, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := f.check(h); err != nil {
				return err
			}
			token, err := bootstrapToken(c, h)
			if err != nil {
				return err
			}
			b, err := bf.newBootstrapper(ctx, c, f.path, f.interval)
			if err != nil {
				return err
			}
			client, err := h.newClient(f, token, b.Credentials.CACert)
			if err != nil {
				return err
			}
			var privateKey []byte
			if bf.privateKeyFile != "" {
				if privateKey, err = os.ReadFile(bf.privateKeyFile); err != nil {
					return fmt.Errorf("read --private-key-file: %w", err)
				}
			}
			o := bootstrap.ProviderOptions{
				Owner: f.owner, Repository: f.repository, Personal: f.personal, Visibility: f.visibilityValue(),
				Reconcile: f.reconcile, Hostname: f.hostname, SSHHostname: bf.sshHostname, Teams: f.teamAccess(h),
				ReadWriteKey: f.readWriteKey, TokenAuth: bf.tokenAuth, DeployTokenAuth: f.deployTokenAuth,
				PrivateKey: privateKey, TokenSource: "$" + h.tokenEnv,
			}
			if err := bootstrap.ConfigureProvider(ctx, client, o, b); err != nil {
				return err
			}
			return b.Run(ctx)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.owner, "owner", "", h.ownerHelp)
	fs.StringVar(&f.repository, "repository", "", h.name+" repository name")
	fs.StringSliceVar(&f.teams, h.teamFlag, nil, h.teamHelp)
	fs.BoolVar(&f.personal, "personal", false, h.personalHelp)
	fs.BoolVar(&f.private, "private", true, "if true, the repository is setup or configured as private")
	fs.StringVar(&f.visibility, "visibility", "", "visibility of the repository: private, public or internal (overrides --private)")
	fs.DurationVar(&f.interval, "interval", time.Minute, "sync interval")
	fs.StringVar(&f.hostname, "hostname", h.defaultHostname, h.name+" hostname")
	fs.StringVar(&f.path, "path", "", "path relative to the repository root, when specified the cluster sync will be scoped to this path")
	fs.BoolVar(&f.readWriteKey, "read-write-key", false, "if true, the deploy key is configured with read/write permissions")
	fs.BoolVar(&f.reconcile, "reconcile", false, "if true, the configured options are also reconciled if the repository already exists")
	if h.username {
		fs.StringVarP(&f.username, "username", "u", "git", "authentication username")
	}
	if h.deployTokens {
		fs.BoolVar(&f.deployTokenAuth, "deploy-token-auth", false, "when enabled, a Project Deploy Token is generated and will be used instead of the SSH deploy token")
	}
	return cmd
}

// check validates the host flags before anything is asked for or contacted.
func (f *bootstrapHostFlags) check(h bootstrapHost) error {
	if f.owner == "" || f.repository == "" {
		return fmt.Errorf("--owner and --repository are required")
	}
	if f.hostname == "" {
		return fmt.Errorf("invalid hostname %q: --hostname is required for %s", f.hostname, h.name)
	}
	if f.visibility != "" && f.visibility != provider.Private && f.visibility != provider.Public && f.visibility != provider.Internal {
		return fmt.Errorf("invalid --visibility %q: want private, public or internal", f.visibility)
	}
	if h.validate != nil {
		return h.validate(f)
	}
	return nil
}

func (f *bootstrapHostFlags) visibilityValue() string {
	switch {
	case f.visibility != "":
		return f.visibility
	case f.private:
		return provider.Private
	}
	return provider.Public
}

// teamAccess parses --team values: "name" or "name:permission".
func (f *bootstrapHostFlags) teamAccess(h bootstrapHost) []provider.TeamAccess {
	var out []provider.TeamAccess
	for _, t := range f.teams {
		name, perm, ok := strings.Cut(strings.TrimSpace(t), ":")
		if !ok || perm == "" {
			perm = h.defaultPermission
		}
		if name != "" {
			out = append(out, provider.TeamAccess{Team: name, Permission: perm})
		}
	}
	return out
}

// bootstrapToken reads the host's token variable, else asks for the token on stdin (a
// terminal, or a pipe: echo $TOKEN | flux bootstrap ...).
func bootstrapToken(c *Command, h bootstrapHost) (string, error) {
	if tok := strings.TrimSpace(os.Getenv(h.tokenEnv)); tok != "" {
		return tok, nil
	}
	if c.In != nil {
		fmt.Fprintf(c.Err, "Please enter your %s personal access token (PAT): ", h.name)
		line, _ := bufio.NewReader(c.In).ReadString('\n')
		fmt.Fprintln(c.Err)
		if tok := strings.TrimSpace(line); tok != "" {
			return tok, nil
		}
	}
	return "", fmt.Errorf("no %s token: set %s to a personal access token", h.name, h.tokenEnv)
}
