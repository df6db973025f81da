package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"gotk.dev/cli/pkg/bootstrap"
	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/redact"
)

// bootstrapGitFlags are bootstrap git's own flags.
type bootstrapGitFlags struct {
	url               string
	interval          time.Duration
	username          string
	password          string
	silent            bool
	allowInsecureHTTP bool
	bearerToken       bool
	path              string
}

func newBootstrapGitCommand(c *Command, bf *bootstrapFlags) *cobra.Command {
	f := bootstrapGitFlags{}
	cmd := &cobra.Command{
		Use:   "git",
		Short: "Deploy Flux on a cluster connected to a Git repository",
		Long: `The bootstrap git command commits the Flux manifests to the branch of a Git repository,
and then it configures the target cluster to synchronize with that repository.
If the Flux components are present on the cluster, the bootstrap command will perform
an upgrade if needed.`,
		Example: `  # Run bootstrap for a Git repository and authenticate with your SSH agent
  flux bootstrap git --url=ssh://git@example.com/repository.git --path=clusters/my-cluster

  # Run bootstrap for a Git repository and authenticate using a password
  flux bootstrap git --url=https://example.com/repository.git --password=<password> --path=clusters/my-cluster

  # Run bootstrap for a Git repository with a private key and password
  flux bootstrap git --url=ssh://git@example.com/repository.git --private-key-file=<path/to/private.key> --password=<password> --path=clusters/my-cluster`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := bf.newBootstrapper(cmd.Context(), c, f.path, f.interval)
			if err != nil {
				return err
			}
			if err := f.configure(cmd.Context(), c, bf, b); err != nil {
				return err
			}
			return b.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "", "Git repository URL")
	fs.DurationVar(&f.interval, "interval", time.Minute, "sync interval")
	fs.StringVarP(&f.username, "username", "u", "git", "basic authentication username")
	fs.StringVarP(&f.password, "password", "p", "", "basic authentication password (or the passphrase of --private-key-file)")
	fs.BoolVarP(&f.silent, "silent", "s", false, "assumes the deploy key is already setup, skips confirmation")
	fs.BoolVar(&f.allowInsecureHTTP, "allow-insecure-http", false, "allows insecure HTTP connections")
	fs.BoolVar(&f.bearerToken, "with-bearer-token", false, "use password as bearer token for Authorization header")
	fs.StringVar(&f.path, "path", "", "path relative to the repository root, when specified the cluster sync will be scoped to this path")
	return cmd
}

// configure decides from --url how this machine reaches the repository and what the
// cluster's Secret holds: HTTP(S) credentials, or an SSH key pair (generated unless
// --private-key-file) with the scanned host key.
func (f bootstrapGitFlags) configure(ctx context.Context, c *Command, bf *bootstrapFlags, b *bootstrap.Bootstrapper) error {
	if f.url == "" {
		return errors.New("--url is required")
	}
	u, err := url.Parse(bootstrap.SSHURL(f.url))
	if err != nil || u.Host == "" {
		return fmt.Errorf("invalid --url %q: want http(s)://host/path or ssh://user@host/path", redact.URL(f.url))
	}
	switch u.Scheme {
	case "http", "https":
		return f.configureHTTP(u, bf, b)
	case "ssh":
		if f.bearerToken || bf.tokenAuth {
			return fmt.Errorf("--with-bearer-token and --token-auth need an http(s) --url, not %s", u.Redacted())
		}
		return f.configureSSH(ctx, c, u, bf, b)
	}
	return fmt.Errorf("invalid --url %q: unsupported scheme %q (want http, https or ssh)", redact.URL(f.url), u.Scheme)
}

func (f bootstrapGitFlags) configureHTTP(u *url.URL, bf *bootstrapFlags, b *bootstrap.Bootstrapper) error {
	if u.Scheme == "http" && !f.allowInsecureHTTP {
		return errors.New("scheme http is insecure, pass --allow-insecure-http=true to allow it")
	}
	username, password := f.username, f.password
	if pw, ok := u.User.Password(); ok && password == "" {
		username, password = u.User.Username(), pw
	}
	if password == "" {
		return fmt.Errorf("--password is required to push to %s", u.Redacted())
	}
	clean := *u
	clean.User = nil
	data := map[string][]byte{git.KeyCACert: b.Credentials.CACert}
	if f.bearerToken {
		data[git.KeyBearerToken] = []byte(password)
		b.Credentials.BearerToken = password
	} else {
		data[git.KeyUsername], data[git.KeyPassword] = []byte(username), []byte(password)
		b.Credentials.Username, b.Credentials.Password = username, password
	}
	auth, err := git.NewAuthOptions(&clean, data)
	if err != nil {
		return err
	}
	b.Remote = bootstrap.NewRemote(clean.String(), auth)
	b.SyncURL = clean.String()
	return nil
}

func (f bootstrapGitFlags) configureSSH(ctx context.Context, c *Command, u *url.URL, bf *bootstrapFlags, b *bootstrap.Bootstrapper) error {
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "22")
	}
	knownHosts, err := sshkey.ScanHostKeys(ctx, hostport, min(connectTimeout, c.Global.Timeout))
	if err != nil {
		return err
	}
	user := u.User.Username()
	if user == "" {
		user = "git"
	}
	b.Credentials.SSH, b.Credentials.HostPort, b.Credentials.KnownHosts = true, hostport, knownHosts
	b.SyncURL = u.String()
	if bf.privateKeyFile != "" {
		key, err := os.ReadFile(bf.privateKeyFile)
		if err != nil {
			return fmt.Errorf("read --private-key-file: %w", err)
		}
		auth := &git.AuthOptions{Transport: git.SSH, Host: u.Host, Username: user, Password: f.password,
			Identity: key, KnownHosts: knownHosts}
		if err := auth.Validate(); err != nil {
			return err
		}
		b.Remote = bootstrap.NewRemote(u.String(), auth)
		// The cluster uses the same key, which has access already: nothing to confirm.
		b.Credentials.PrivateKey, b.Credentials.Passphrase = key, f.password
		return nil
	}
	if b.Remote, err = bootstrap.NewAgentRemote(u.String(), user, knownHosts); err != nil {
		return err
	}
	if !f.silent {
		b.OnPublicKey = func(context.Context, []byte) (func(context.Context) error, error) {
			ok, err := c.confirm("Please give the key access to your repository")
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errors.New("aborting")
			}
			return nil, nil
		}
	}
	return nil
}
