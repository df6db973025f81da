package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"gotk.dev/cli/pkg/bootstrap"
	"gotk.dev/cli/pkg/kube"
	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/redact"
)

// gitModel is the provider's git attribute: the repository, the commits' author and signing
// key, and the credentials for HTTP(S) or SSH, as upstream's provider takes them.
type gitModel struct {
	URL                   types.String `tfsdk:"url"`
	Branch                types.String `tfsdk:"branch"`
	AuthorName            types.String `tfsdk:"author_name"`
	AuthorEmail           types.String `tfsdk:"author_email"`
	CommitMessageAppendix types.String `tfsdk:"commit_message_appendix"`
	GPGKeyRing            types.String `tfsdk:"gpg_key_ring"`
	GPGPassphrase         types.String `tfsdk:"gpg_passphrase"`
	GPGKeyID              types.String `tfsdk:"gpg_key_id"`
	HTTP                  *httpModel   `tfsdk:"http"`
	SSH                   *sshModel    `tfsdk:"ssh"`
}

type httpModel struct {
	Username             types.String `tfsdk:"username"`
	Password             types.String `tfsdk:"password"`
	BearerToken          types.String `tfsdk:"bearer_token"`
	AllowInsecureHTTP    types.Bool   `tfsdk:"allow_insecure_http"`
	CertificateAuthority types.String `tfsdk:"certificate_authority"`
}

type sshModel struct {
	Username   types.String `tfsdk:"username"`
	Password   types.String `tfsdk:"password"`
	PrivateKey types.String `tfsdk:"private_key"`
}

// Defaults of the git attribute (provider attributes cannot declare defaults).
const (
	defaultBranch     = "main"
	defaultAuthorName = "Flux"
	defaultGitUser    = "git"
)

func gitSchema() schema.Attribute {
	str := func(desc string, sensitive bool) schema.Attribute {
		return schema.StringAttribute{Optional: true, Description: desc, Sensitive: sensitive}
	}
	return schema.SingleNestedAttribute{
		Optional:    true,
		Description: "The Git repository bootstrap commits to and the cluster follows.",
		Attributes: map[string]schema.Attribute{
			"url":                     schema.StringAttribute{Required: true, Description: "Repository URL: http(s)://host/path or ssh://user@host/path."},
			"branch":                  str("Branch to commit to and follow (default main).", false),
			"author_name":             str("Commit author name (default Flux).", false),
			"author_email":            str("Commit author email.", false),
			"commit_message_appendix": str("Added to every commit message, e.g. [ci skip].", false),
			"gpg_key_ring":            str("Armored OpenPGP key ring that signs the commits.", true),
			"gpg_passphrase":          str("Passphrase of the signing key.", true),
			"gpg_key_id":              str("ID of the signing key in gpg_key_ring (default: its first private key).", false),
			"http": schema.SingleNestedAttribute{
				Optional:    true,
				Description: "Credentials for an http(s) url; the cluster gets the same ones.",
				Attributes: map[string]schema.Attribute{
					"username":              str("Basic authentication user name (default git).", false),
					"password":              str("Basic authentication password or access token.", true),
					"bearer_token":          str("Bearer token, instead of username and password.", true),
					"allow_insecure_http":   schema.BoolAttribute{Optional: true, Description: "Allow a plain http:// url."},
					"certificate_authority": str("PEM CA certificate the Git server's certificate is verified with.", false),
				},
			},
			"ssh": schema.SingleNestedAttribute{
				Optional:    true,
				Description: "Credentials for an ssh url; the cluster gets the same key.",
				Attributes: map[string]schema.Attribute{
					"username":    str("SSH user when the url has none (default git).", false),
					"password":    str("Passphrase of private_key.", true),
					"private_key": str("PEM or OpenSSH private key with push access.", true),
				},
			},
		},
	}
}

// gitError names the attribute of the provider's git block that is wrong.
func gitError(attr string, format string, a ...any) error {
	return fmt.Errorf("provider attribute git.%s: %s", attr, fmt.Sprintf(format, a...))
}

// configure fills how b reaches the repository and what the cluster's Secret holds. It
// connects only to scan an SSH host key.
func (g *gitModel) configure(ctx context.Context, b *bootstrap.Bootstrapper, timeout time.Duration) error {
	if g == nil {
		return fmt.Errorf("the provider's git attribute is required (url and credentials of the repository)")
	}
	b.Branch = valueOr(g.Branch, defaultBranch)
	b.Author = bootstrap.Author{Name: valueOr(g.AuthorName, defaultAuthorName), Email: g.AuthorEmail.ValueString()}
	b.CommitMessageAppendix = g.CommitMessageAppendix.ValueString()
	u, err := url.Parse(bootstrap.SSHURL(g.URL.ValueString()))
	if err != nil || u.Host == "" {
		return gitError("url", "%q is not a repository URL: want http(s)://host/path or ssh://user@host/path", redact.URL(g.URL.ValueString()))
	}
	switch u.Scheme {
	case "http", "https":
		if err = g.configureHTTP(u, b); err != nil {
			return err
		}
	case "ssh":
		if err = g.configureSSH(ctx, u, b, timeout); err != nil {
			return err
		}
	default:
		return gitError("url", "unsupported scheme %q (want http, https or ssh)", u.Scheme)
	}
	return g.configureSigner(b)
}

func (g *gitModel) configureHTTP(u *url.URL, b *bootstrap.Bootstrapper) error {
	h := g.HTTP
	if h == nil {
		return gitError("http", "credentials are required for %s (username and password, or bearer_token)", u.Redacted())
	}
	if u.Scheme == "http" && !h.AllowInsecureHTTP.ValueBool() {
		return gitError("http.allow_insecure_http", "must be true to push to the plain http URL %s", u.Redacted())
	}
	if h.Password.ValueString() == "" && h.BearerToken.ValueString() == "" {
		return gitError("http.password", "a password or bearer_token is required to push to %s", u.Redacted())
	}
	clean := *u
	clean.User = nil
	data := map[string][]byte{}
	if ca := h.CertificateAuthority.ValueString(); ca != "" {
		data[git.KeyCACert] = []byte(ca)
		b.Credentials.CACert = []byte(ca)
	}
	if token := h.BearerToken.ValueString(); token != "" {
		data[git.KeyBearerToken] = []byte(token)
		b.Credentials.BearerToken = token
	} else {
		user := valueOr(h.Username, defaultGitUser)
		data[git.KeyUsername], data[git.KeyPassword] = []byte(user), []byte(h.Password.ValueString())
		b.Credentials.Username, b.Credentials.Password = user, h.Password.ValueString()
	}
	auth, err := git.NewAuthOptions(&clean, data)
	if err != nil {
		return gitError("http", "%v", err)
	}
	b.Remote = bootstrap.NewRemote(clean.String(), auth)
	b.SyncURL = clean.String()
	return nil
}

func (g *gitModel) configureSSH(ctx context.Context, u *url.URL, b *bootstrap.Bootstrapper, timeout time.Duration) error {
	s := g.SSH
	if s == nil || s.PrivateKey.ValueString() == "" {
		return gitError("ssh.private_key", "is required to push to %s", u.Redacted())
	}
	if u.User.Username() == "" {
		u.User = url.User(valueOr(s.Username, defaultGitUser))
	}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "22")
	}
	key := []byte(s.PrivateKey.ValueString())
	if _, err := sshkey.FromPEM(key, s.Password.ValueString(), "git.ssh.private_key"); err != nil {
		return gitError("ssh.private_key", "%v", err)
	}
	knownHosts, err := sshkey.ScanHostKeys(ctx, hostport, min(kube.ConnectTimeout, timeout))
	if err != nil {
		return gitError("url", "%v", err)
	}
	auth := &git.AuthOptions{Transport: git.SSH, Host: u.Host, Username: u.User.Username(),
		Password: s.Password.ValueString(), Identity: key, KnownHosts: knownHosts}
	if err := auth.Validate(); err != nil {
		return gitError("ssh", "%v", err)
	}
	b.Remote = bootstrap.NewRemote(u.String(), auth)
	b.SyncURL = u.String()
	b.Credentials.SSH, b.Credentials.HostPort, b.Credentials.KnownHosts = true, hostport, knownHosts
	b.Credentials.PrivateKey, b.Credentials.Passphrase = key, s.Password.ValueString()
	return nil
}

// configureSigner loads gpg_key_ring. LoadGPGSigner reads a file, so the key ring is
// written to a private temporary one for the call.
func (g *gitModel) configureSigner(b *bootstrap.Bootstrapper) error {
	ring := g.GPGKeyRing.ValueString()
	if ring == "" {
		if g.GPGKeyID.ValueString() != "" || g.GPGPassphrase.ValueString() != "" {
			return gitError("gpg_key_ring", "is required with gpg_key_id and gpg_passphrase")
		}
		return nil
	}
	f, err := os.CreateTemp("", "flux-gpg-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(ring); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	signer, err := bootstrap.LoadGPGSigner(f.Name(), g.GPGPassphrase.ValueString(), g.GPGKeyID.ValueString())
	if err != nil {
		return gitError("gpg_key_ring", "%v", err)
	}
	b.Signer = signer
	return nil
}

// syncURL is the URL the cluster's GitRepository uses, known without connecting (for plans).
func (g *gitModel) syncURL() (string, error) {
	if g == nil {
		return "", fmt.Errorf("the provider's git attribute is required (url and credentials of the repository)")
	}
	u, err := url.Parse(bootstrap.SSHURL(g.URL.ValueString()))
	if err != nil || u.Host == "" {
		return "", gitError("url", "%q is not a repository URL: want http(s)://host/path or ssh://user@host/path", redact.URL(g.URL.ValueString()))
	}
	switch u.Scheme {
	case "ssh":
		if u.User.Username() == "" {
			user := defaultGitUser
			if g.SSH != nil {
				user = valueOr(g.SSH.Username, defaultGitUser)
			}
			u.User = url.User(user)
		}
	default:
		u.User = nil
	}
	return u.String(), nil
}

func valueOr(v types.String, def string) string {
	if s := v.ValueString(); s != "" {
		return s
	}
	return def
}
