package bootstrap

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"gotk.dev/cli/pkg/bootstrap/provider"
	"gotk.dev/pkg/git"
)

// ProviderOptions are what bootstrap github, gitlab, gitea and bitbucket-server share.
type ProviderOptions struct {
	Owner, Repository string
	// Personal means Owner is the token's user, not an organisation, group or project.
	Personal bool
	// Visibility of a created repository: private, public or internal (GitHub, GitLab).
	Visibility string
	// Reconcile sets the visibility of an existing repository too.
	Reconcile bool
	// Hostname is the host as the user gave it (messages, and the SSH host when the API
	// names none).
	Hostname string
	// SSHHostname (host[:port]) replaces the host of the repository's SSH URL.
	SSHHostname string
	Teams       []provider.TeamAccess
	// ReadWriteKey registers the deploy key with write access (image automation pushes).
	ReadWriteKey bool
	// TokenAuth makes the cluster fetch over HTTPS with the token instead of a deploy key.
	TokenAuth bool
	// DeployTokenAuth makes the cluster fetch over HTTPS with a new deploy token (GitLab).
	DeployTokenAuth bool
	// PrivateKey replaces the generated deploy key (--private-key-file).
	PrivateKey []byte
	// TokenSource says where the token came from, for messages ("$GITHUB_TOKEN").
	TokenSource string
}

// ConfigureProvider finds or creates the repository on the host, gives teams access, and
// sets b up: clone and push over HTTPS with the token; the cluster syncs over SSH with a
// deploy key registered when its Secret is created, or over HTTPS with the token
// (TokenAuth) or a deploy token (DeployTokenAuth). Errors say what to do about them.
func ConfigureProvider(ctx context.Context, p provider.Client, o ProviderOptions, b *Bootstrapper) error {
	if o.Owner == "" || o.Repository == "" {
		return errors.New("--owner and --repository are required")
	}
	if o.TokenAuth && o.DeployTokenAuth {
		return errors.New("--token-auth and --deploy-token-auth cannot be set both")
	}
	if _, ok := p.(provider.DeployTokens); o.DeployTokenAuth && !ok {
		return fmt.Errorf("--deploy-token-auth is not supported by %s", p.Name())
	}
	switch o.Visibility {
	case provider.Private, provider.Public, provider.Internal:
	default:
		return fmt.Errorf("invalid --visibility %q: want private, public or internal", o.Visibility)
	}
	b.Log.Actionf("connecting to %s", o.Hostname)
	webURL := "https://" + strings.TrimPrefix(strings.TrimPrefix(o.Hostname, "https://"), "http://") + "/" + o.Owner + "/" + o.Repository
	repo, err := p.GetRepository(ctx, o.Owner, o.Repository, o.Personal)
	switch {
	case errors.Is(err, provider.ErrNotFound):
		spec := provider.RepositorySpec{Owner: o.Owner, Name: o.Repository, Personal: o.Personal, Visibility: o.Visibility, DefaultBranch: b.Branch}
		if repo, err = p.CreateRepository(ctx, spec); err != nil {
			return fmt.Errorf("failed to create new Git repository %q: %w", webURL, explain(p, o, err, true))
		}
		if repo.WebURL != "" {
			webURL = repo.WebURL
		}
		b.Log.Successf("repository %q created", webURL)
		b.Created(fmt.Sprintf("repository %q", webURL))
	case err != nil:
		return fmt.Errorf("failed to get Git repository %q: %w", webURL, explain(p, o, err, false))
	default:
		if repo.WebURL != "" {
			webURL = repo.WebURL
		}
		if repo.Archived {
			return fmt.Errorf("repository %q is archived and cannot be pushed to: unarchive it on %s, or bootstrap into another --repository", webURL, p.Name())
		}
		if o.Reconcile && repo.Visibility != "" && repo.Visibility != o.Visibility {
			if err := p.SetVisibility(ctx, repo, o.Visibility); err != nil {
				return fmt.Errorf("failed to make %q %s: %w", webURL, o.Visibility, explain(p, o, err, false))
			}
			b.Log.Successf("repository %q is now %s", webURL, o.Visibility)
		}
	}
	for _, t := range o.Teams {
		changed, err := p.GrantTeam(ctx, repo, t)
		if err != nil {
			return fmt.Errorf("failed to give team %q access to %q: %w", t.Team, webURL, explain(p, o, err, false))
		}
		if changed {
			b.Log.Successf("granted team %q access to %q", t.Team, webURL)
		}
	}
	return configureTransport(p, o, repo, webURL, b)
}

// configureTransport sets the remote and the cluster's credentials for repo.
func configureTransport(p provider.Client, o ProviderOptions, repo *provider.Repository, webURL string, b *Bootstrapper) error {
	cloneURL, err := url.Parse(repo.CloneURL)
	if err != nil || cloneURL.Host == "" {
		return fmt.Errorf("repository %q has no usable clone URL %q", webURL, repo.CloneURL)
	}
	user, token := p.GitCredentials()
	auth, err := git.NewAuthOptions(cloneURL, map[string][]byte{
		git.KeyUsername: []byte(user), git.KeyPassword: []byte(token), git.KeyCACert: b.Credentials.CACert,
	})
	if err != nil {
		return err
	}
	b.Remote = NewRemote(cloneURL.String(), auth)
	switch {
	case o.TokenAuth:
		b.SyncURL = cloneURL.String()
		b.Credentials.Username, b.Credentials.Password = user, token
		return nil
	case o.DeployTokenAuth:
		b.SyncURL = cloneURL.String()
		b.BeforeSecret = deployTokenHook(p.(provider.DeployTokens), repo, b)
		return nil
	}
	sshURL := SSHURL(repo.SSHURL)
	if sshURL == "" {
		sshURL = "ssh://git@" + cloneURL.Hostname() + "/" + o.Owner + "/" + o.Repository
	}
	u, err := url.Parse(sshURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("repository %q has no usable SSH URL %q", webURL, repo.SSHURL)
	}
	if o.SSHHostname != "" {
		u.Host = o.SSHHostname
	}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "22")
	}
	b.SyncURL = u.String()
	b.Credentials.SSH, b.Credentials.HostPort, b.Credentials.PrivateKey = true, hostport, o.PrivateKey
	title := strings.Join([]string{b.Install.Namespace, b.Branch, b.SecretName, "./" + b.Path}, "-")
	b.OnPublicKey = func(ctx context.Context, publicKey []byte) (func(context.Context) error, error) {
		want := provider.DeployKey{Title: title, Key: strings.TrimSpace(string(publicKey)), ReadOnly: !o.ReadWriteKey}
		changed, err := reconcileDeployKey(ctx, p, repo, want)
		if err != nil {
			return nil, fmt.Errorf("failed to configure the deploy key of %q: %w", webURL, explain(p, o, err, false))
		}
		if !changed {
			return nil, nil
		}
		b.Log.Successf("configured deploy key %q for %q", title, webURL)
		return func(ctx context.Context) error { return removeDeployKey(ctx, p, repo, want) }, nil
	}
	return nil
}

// deployTokenHook creates a deploy token when the cluster's Secret is about to be created,
// and revokes it when the Secret could not be.
func deployTokenHook(p provider.DeployTokens, repo *provider.Repository, b *Bootstrapper) CredentialsHook {
	return func(ctx context.Context, creds *Credentials) (func(context.Context) error, error) {
		name := "flux-" + b.Install.Namespace + "-" + b.SecretName
		user, token, id, err := p.NewDeployToken(ctx, repo, name)
		if err != nil {
			return nil, fmt.Errorf("failed to create deploy token %q: %w", name, err)
		}
		b.Log.Successf("created deploy token %q", name)
		creds.Username, creds.Password = user, token
		return func(ctx context.Context) error { return p.DeleteDeployToken(ctx, repo, id) }, nil
	}
}

// reconcileDeployKey makes want the deploy key titled want.Title: an existing one with
// another key or permission is replaced. It reports whether anything changed.
func reconcileDeployKey(ctx context.Context, p provider.Client, repo *provider.Repository, want provider.DeployKey) (bool, error) {
	keys, err := p.DeployKeys(ctx, repo)
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if k.Title != want.Title {
			continue
		}
		if provider.SameKey(k.Key, want.Key) && k.ReadOnly == want.ReadOnly {
			return false, nil
		}
		if err := p.DeleteDeployKey(ctx, repo, k.ID); err != nil {
			return false, err
		}
	}
	return true, p.AddDeployKey(ctx, repo, want)
}

// removeDeployKey deletes the deploy key holding want's key.
func removeDeployKey(ctx context.Context, p provider.Client, repo *provider.Repository, want provider.DeployKey) error {
	keys, err := p.DeployKeys(ctx, repo)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Title == want.Title && provider.SameKey(k.Key, want.Key) {
			return p.DeleteDeployKey(ctx, repo, k.ID)
		}
	}
	return nil
}

// explain adds what to do to an API error.
func explain(p provider.Client, o ProviderOptions, err error, creating bool) error {
	var unreachable *provider.UnreachableError
	var unknownCA x509.UnknownAuthorityError
	switch status := provider.StatusOf(err); {
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w: the server's certificate is not trusted: give its CA with --ca-file", err)
	case errors.As(err, &unreachable):
		return fmt.Errorf("%w: check --hostname and that %s is reachable from here", err, o.Hostname)
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s refused the token: check that %s holds a valid personal access token", err, p.Name(), o.TokenSource)
	case status == http.StatusForbidden:
		return fmt.Errorf("%w: the token has no permission for this: give it write access to repositories (and admin to add deploy keys)", err)
	case creating && status == http.StatusNotFound:
		if o.Personal {
			return fmt.Errorf("%w: the token's user cannot create repositories here: check --owner", err)
		}
		return fmt.Errorf("%w: owner %q not found on %s: check --owner, and pass --personal when it is a user account", err, o.Owner, p.Name())
	}
	return err
}
