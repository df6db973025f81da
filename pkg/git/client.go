package git

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"
	"golang.org/x/crypto/ssh"

	"gotk.dev/pkg/redact"
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Proxy, when set, carries all traffic: http(s) proxies for HTTP(S)
	// remotes, socks5 proxies for any remote.
	Proxy *ProxyOptions
	// SSHTimeout bounds the SSH dial and handshake when the context has no
	// earlier deadline (default 30s).
	SSHTimeout time.Duration
	// SSHKeyExchanges and SSHHostKeyAlgorithms restrict the SSH key exchange and host key
	// algorithms (--ssh-kex-algos, --ssh-hostkey-algos); empty means Go's defaults and, for
	// host keys, those of the known_hosts entries.
	SSHKeyExchanges, SSHHostKeyAlgorithms []string
}

// Client talks to Git remotes with go-git. It holds no connection state and
// is safe for concurrent use.
type Client struct {
	opts ClientOptions
}

// NewClient returns a Client.
func NewClient(opts ClientOptions) *Client {
	if opts.SSHTimeout <= 0 {
		opts.SSHTimeout = 30 * time.Second
	}
	return &Client{opts: opts}
}

// remote is everything go-git needs to reach one repository.
type remote struct {
	url        string // without userinfo: it ends up in .git/config
	parsed     *url.URL
	auth       transport.AuthMethod
	caBundle   []byte
	clientCert []byte
	clientKey  []byte
	proxy      transport.ProxyOptions
	secrets    []string
}

// newRemote parses repoURL and turns auth (nil: anonymous) into go-git
// settings. Credentials embedded in the URL are used when auth is nil.
func (c *Client) newRemote(ctx context.Context, repoURL string, auth *AuthOptions) (*remote, error) {
	u, err := url.Parse(repoURL)
	if err != nil {
		return nil, fmt.Errorf("invalid repository URL %q: %s", redact.URL(repoURL), redact.String(err.Error()))
	}
	if auth == nil {
		if auth, err = NewAuthOptions(u, nil); err != nil {
			return nil, err
		}
	}
	if scheme := Transport(strings.ToLower(u.Scheme)); auth.Transport != scheme {
		return nil, fmt.Errorf("credentials for %s cannot be used with the %s URL %s", auth.Transport, scheme, redact.URL(repoURL))
	}
	clean := *u
	clean.User = nil
	r := &remote{url: clean.String(), parsed: &clean, secrets: auth.secrets()}
	if pw, ok := u.User.Password(); ok {
		r.secrets = append(r.secrets, pw)
	}
	if p := c.opts.Proxy; p != nil && p.URL != "" {
		if auth.Transport == SSH && !strings.HasPrefix(p.URL, "socks5") {
			return nil, fmt.Errorf("proxy %s cannot carry SSH traffic to %s: use a socks5:// proxy", redact.URL(p.URL), u.Host)
		}
		r.proxy = transport.ProxyOptions{URL: p.URL, Username: p.Username, Password: p.Password}
		r.secrets = append(r.secrets, p.Password)
	}
	switch auth.Transport {
	case HTTP, HTTPS:
		switch {
		case auth.BearerToken != "":
			r.auth = &githttp.TokenAuth{Token: auth.BearerToken}
		case auth.Username != "":
			r.auth = &githttp.BasicAuth{Username: auth.Username, Password: auth.Password}
		}
		if auth.Transport == HTTPS {
			r.caBundle, r.clientCert, r.clientKey = auth.CACert, auth.TLSCert, auth.TLSKey
		}
	case SSH:
		if r.auth, err = c.sshAuth(ctx, auth); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (c *Client) sshAuth(ctx context.Context, auth *AuthOptions) (transport.AuthMethod, error) {
	if err := auth.Validate(); err != nil {
		return nil, err
	}
	keys, err := gitssh.NewPublicKeys(auth.Username, auth.Identity, auth.Password)
	if err != nil {
		// x/crypto errors describe the key's format, never its bytes.
		return nil, fmt.Errorf("invalid '%s' for %s: %v", KeyIdentity, auth.Host, err)
	}
	db, err := parseKnownHosts(auth.KnownHosts)
	if err != nil {
		return nil, fmt.Errorf("invalid '%s' for %s: %w", KeyKnownHosts, auth.Host, err)
	}
	keys.HostKeyCallback = db.hostKeyCallback()
	keys.HostKeyAlgorithms = db.hostKeyAlgorithms(hostWithPort(auth.Host))
	if len(c.opts.SSHHostKeyAlgorithms) > 0 {
		keys.HostKeyAlgorithms = c.opts.SSHHostKeyAlgorithms
	}
	timeout := c.opts.SSHTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	return &sshAuth{PublicKeys: keys, timeout: timeout, kex: c.opts.SSHKeyExchanges}, nil
}

// hostWithPort adds ssh's default port, as go-git dials host:port.
func hostWithPort(host string) string {
	if strings.LastIndex(host, ":") > strings.LastIndex(host, "]") {
		return host
	}
	return host + ":22"
}

// sshAuth bounds go-git's SSH dial and handshake, which otherwise ignore the
// context and could hang on an unresponsive server.
type sshAuth struct {
	*gitssh.PublicKeys
	timeout time.Duration
	kex     []string
}

func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeys.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = a.timeout
	if len(a.kex) > 0 {
		cfg.KeyExchanges = a.kex
	}
	return cfg, nil
}

// errorf wraps err with a message about repoURL and strips credentials.
func (r *remote) errorf(err error, format string, args ...any) error {
	return redact.Error(fmt.Errorf(format+": %w", append(args, err)...), r.secrets...)
}

// ListRefs lists the remote's references (one ref advertisement, no clone):
// full ref name -> hash. Annotated tags also appear peeled as
// "refs/tags/<name>^{}" -> commit hash.
func (c *Client) ListRefs(ctx context.Context, repoURL string, auth *AuthOptions) (map[string]string, error) {
	r, err := c.newRemote(ctx, repoURL, auth)
	if err != nil {
		return nil, redact.Error(err, auth.secrets()...)
	}
	return r.list(ctx)
}

func (r *remote) list(ctx context.Context) (map[string]string, error) {
	rem := gogit.NewRemote(memory.NewStorage(), r.config())
	refs, err := rem.ListContext(ctx, &gogit.ListOptions{
		Auth:          r.auth,
		CABundle:      r.caBundle,
		ClientCert:    r.clientCert,
		ClientKey:     r.clientKey,
		ProxyOptions:  r.proxy,
		PeelingOption: gogit.AppendPeeled,
	})
	if err != nil {
		return nil, r.errorf(err, "unable to list references of '%s'", r.url)
	}
	out := make(map[string]string, len(refs))
	for _, ref := range refs {
		if !ref.Hash().IsZero() {
			out[ref.Name().String()] = ref.Hash().String()
		}
	}
	return out, nil
}
