package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

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
			run, err := bf.newRun(c, f.path, f.interval)
			if err != nil {
				return err
			}
			if err := f.configure(cmd.Context(), c, bf, run); err != nil {
				return err
			}
			return run.run(cmd.Context())
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
func (f bootstrapGitFlags) configure(ctx context.Context, c *Command, bf *bootstrapFlags, run *bootstrapRun) error {
	if f.url == "" {
		return errors.New("--url is required")
	}
	u, err := url.Parse(bootstrapSSHURL(f.url))
	if err != nil || u.Host == "" {
		return fmt.Errorf("invalid --url %q: want http(s)://host/path or ssh://user@host/path", redact.URL(f.url))
	}
	switch u.Scheme {
	case "http", "https":
		return f.configureHTTP(u, bf, run)
	case "ssh":
		if f.bearerToken || bf.tokenAuth {
			return fmt.Errorf("--with-bearer-token and --token-auth need an http(s) --url, not %s", u.Redacted())
		}
		return f.configureSSH(ctx, c, u, bf, run)
	}
	return fmt.Errorf("invalid --url %q: unsupported scheme %q (want http, https or ssh)", redact.URL(f.url), u.Scheme)
}

func (f bootstrapGitFlags) configureHTTP(u *url.URL, bf *bootstrapFlags, run *bootstrapRun) error {
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
	data := map[string][]byte{git.KeyCACert: run.creds.CACert}
	if f.bearerToken {
		data[git.KeyBearerToken] = []byte(password)
		run.creds.BearerToken = password
	} else {
		data[git.KeyUsername], data[git.KeyPassword] = []byte(username), []byte(password)
		run.creds.Username, run.creds.Password = username, password
	}
	auth, err := git.NewAuthOptions(&clean, data)
	if err != nil {
		return err
	}
	run.remote = &bootstrapRemote{url: clean.String(), auth: auth, client: git.NewClient(git.ClientOptions{})}
	run.sync.URL = clean.String()
	return nil
}

func (f bootstrapGitFlags) configureSSH(ctx context.Context, c *Command, u *url.URL, bf *bootstrapFlags, run *bootstrapRun) error {
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "22")
	}
	knownHosts, err := scanHostKeys(ctx, hostport, min(connectTimeout, c.Global.Timeout))
	if err != nil {
		return err
	}
	user := u.User.Username()
	if user == "" {
		user = "git"
	}
	run.creds.SSH, run.creds.HostPort, run.creds.KnownHosts = true, hostport, knownHosts
	run.sync.URL = u.String()
	remote := &bootstrapRemote{url: u.String(), client: git.NewClient(git.ClientOptions{})}
	if bf.privateKeyFile != "" {
		key, err := os.ReadFile(bf.privateKeyFile)
		if err != nil {
			return fmt.Errorf("read --private-key-file: %w", err)
		}
		remote.auth = &git.AuthOptions{Transport: git.SSH, Host: u.Host, Username: user, Password: f.password,
			Identity: key, KnownHosts: knownHosts}
		if err := remote.auth.Validate(); err != nil {
			return err
		}
		// The cluster uses the same key, which has access already: nothing to confirm.
		run.creds.PrivateKey, run.creds.Passphrase = key, f.password
	} else {
		if remote.agent, err = newBootstrapAgentAuth(user, knownHosts); err != nil {
			return err
		}
		if !f.silent {
			run.onPublicKey = func(context.Context, []byte) error {
				ok, err := c.confirm("Please give the key access to your repository")
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("aborting")
				}
				return nil
			}
		}
	}
	run.remote = remote
	return nil
}

// bootstrapAgentAuth is the SSH agent's keys for the CLI's own clone and push, with the host key
// pinned to the one scanned (and stored in the cluster's known_hosts).
type bootstrapAgentAuth struct {
	*gitssh.PublicKeysCallback
	algorithms []string
}

func (a *bootstrapAgentAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeysCallback.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.HostKeyAlgorithms = a.algorithms
	cfg.Timeout = connectTimeout
	return cfg, nil
}

// newBootstrapAgentAuth connects to the agent at $SSH_AUTH_SOCK.
func newBootstrapAgentAuth(user string, knownHosts []byte) (*bootstrapAgentAuth, error) {
	if os.Getenv("SSH_AUTH_SOCK") == "" {
		return nil, errors.New("no SSH key to push with: give --private-key-file, or run an SSH agent (SSH_AUTH_SOCK is not set)")
	}
	_, _, key, _, _, err := ssh.ParseKnownHosts(knownHosts)
	if err != nil {
		return nil, err
	}
	cb, err := gitssh.NewSSHAgentAuth(user)
	if err != nil {
		return nil, fmt.Errorf("cannot use the SSH agent: %w", err)
	}
	cb.HostKeyCallback = ssh.FixedHostKey(key)
	algorithms := []string{key.Type()}
	if key.Type() == ssh.KeyAlgoRSA {
		algorithms = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return &bootstrapAgentAuth{PublicKeysCallback: cb, algorithms: algorithms}, nil
}

// bootstrapSCPLikeURL is git's "user@host:path" form (no scheme; a one-letter host is a
// Windows drive, not a host).
var bootstrapSCPLikeURL = regexp.MustCompile(`^(?:([^@/:]+)@)?([^@/:]{2,}):(.+)$`)

// bootstrapSSHURL rewrites "git@host:org/repo.git" to "ssh://git@host/org/repo.git" (and
// "host:/srv/repo" to "ssh://host/srv/repo"); other URLs are returned unchanged.
func bootstrapSSHURL(s string) string {
	if strings.Contains(s, "://") {
		return s
	}
	m := bootstrapSCPLikeURL.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	userinfo := ""
	if m[1] != "" {
		userinfo = m[1] + "@"
	}
	return "ssh://" + userinfo + m[2] + "/" + strings.TrimPrefix(m[3], "/")
}
