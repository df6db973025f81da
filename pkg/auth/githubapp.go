package auth

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v84/github"
)

// The keys of a GitHub App Secret (GitRepository spec.secretRef with provider: github,
// `flux create secret githubapp`), as upstream names them.
const (
	KeyGitHubAppID                = "githubAppID"
	KeyGitHubAppInstallationID    = "githubAppInstallationID"
	KeyGitHubAppInstallationOwner = "githubAppInstallationOwner"
	KeyGitHubAppPrivateKey        = "githubAppPrivateKey"
	KeyGitHubAppBaseURL           = "githubAppBaseURL"
	keyCACert                     = "ca.crt"
	keyTLSCert                    = "tls.crt"
	keyTLSKey                     = "tls.key"
)

// GitHubAccessTokenUser is the user name GitHub expects with an installation token over
// Git's HTTPS basic auth.
const GitHubAccessTokenUser = "x-access-token"

// DefaultGitHubAPIURL is github.com's REST API.
const DefaultGitHubAPIURL = "https://api.github.com/"

// appJWTLifetime is how long the app's JWT is valid: GitHub accepts at most ten minutes.
const appJWTLifetime = 9 * time.Minute

// ErrGitHubAppKey is the error for a private key that is not a PEM-encoded RSA key.
var ErrGitHubAppKey = fmt.Errorf("'%s' is not a PEM-encoded RSA private key", KeyGitHubAppPrivateKey)

// GitHubApp is a GitHub App installation: who asks for installation tokens and where.
// Build it with GitHubAppFromSecret.
type GitHubApp struct {
	AppID             int64
	InstallationID    int64
	InstallationOwner string
	// BaseURL is the REST API root (https://HOST/api/v3 for GitHub Enterprise Server).
	BaseURL string

	key     *rsa.PrivateKey
	keyHash string
	tls     *tls.Config
	// CACert, TLSCert and TLSKey are the Secret's CA and client certificate; Git over
	// HTTPS to the same server uses them too.
	CACert, TLSCert, TLSKey []byte
}

// GitHubAppFromSecret reads a GitHub App Secret's data. It names the missing or malformed
// entry, never its content.
func GitHubAppFromSecret(data map[string][]byte) (*GitHubApp, error) {
	get := func(k string) string { return strings.TrimSpace(string(data[k])) }
	a := &GitHubApp{BaseURL: get(KeyGitHubAppBaseURL), InstallationOwner: get(KeyGitHubAppInstallationOwner)}
	if get(KeyGitHubAppID) == "" {
		return nil, fmt.Errorf("'%s' is required", KeyGitHubAppID)
	}
	var err error
	if a.AppID, err = strconv.ParseInt(get(KeyGitHubAppID), 10, 64); err != nil || a.AppID <= 0 {
		return nil, fmt.Errorf("'%s' must be a positive number", KeyGitHubAppID)
	}
	switch id := get(KeyGitHubAppInstallationID); {
	case id != "" && a.InstallationOwner != "":
		return nil, fmt.Errorf("'%s' and '%s' are mutually exclusive", KeyGitHubAppInstallationID, KeyGitHubAppInstallationOwner)
	case id != "":
		if a.InstallationID, err = strconv.ParseInt(id, 10, 64); err != nil || a.InstallationID <= 0 {
			return nil, fmt.Errorf("'%s' must be a positive number", KeyGitHubAppInstallationID)
		}
	case a.InstallationOwner == "":
		return nil, fmt.Errorf("one of '%s' or '%s' is required", KeyGitHubAppInstallationID, KeyGitHubAppInstallationOwner)
	}
	pemKey := data[KeyGitHubAppPrivateKey]
	if len(pemKey) == 0 {
		return nil, fmt.Errorf("'%s' is required", KeyGitHubAppPrivateKey)
	}
	if a.key, err = jwt.ParseRSAPrivateKeyFromPEM(pemKey); err != nil {
		return nil, ErrGitHubAppKey
	}
	sum := sha256.Sum256(pemKey)
	a.keyHash = hex.EncodeToString(sum[:])
	if a.BaseURL != "" {
		u, err := url.Parse(a.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("'%s' must be an http(s) URL", KeyGitHubAppBaseURL)
		}
	}
	a.CACert, a.TLSCert, a.TLSKey = data[keyCACert], data[keyTLSCert], data[keyTLSKey]
	if a.tls, err = tlsConfig(a.CACert, a.TLSCert, a.TLSKey); err != nil {
		return nil, err
	}
	return a, nil
}

// tlsConfig trusts ca in addition to the system roots and presents the client certificate,
// when given.
func tlsConfig(ca, cert, key []byte) (*tls.Config, error) {
	if len(ca) == 0 && len(cert) == 0 && len(key) == 0 {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(ca) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("'%s' holds no PEM certificate", keyCACert)
		}
		cfg.RootCAs = pool
	}
	if (len(cert) > 0) != (len(key) > 0) {
		return nil, fmt.Errorf("'%s' and '%s' must be given together", keyTLSCert, keyTLSKey)
	}
	if len(cert) > 0 {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("'%s'/'%s' are not a valid certificate and key pair", keyTLSCert, keyTLSKey)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// apiURL is the REST API root with a trailing slash.
func (a *GitHubApp) apiURL() string {
	if a.BaseURL == "" {
		return DefaultGitHubAPIURL
	}
	return strings.TrimSuffix(a.BaseURL, "/") + "/"
}

// String names the app and installation, for messages.
func (a *GitHubApp) String() string {
	inst := "installation " + strconv.FormatInt(a.InstallationID, 10)
	if a.InstallationID == 0 {
		inst = fmt.Sprintf("installation of owner '%s'", a.InstallationOwner)
	}
	return fmt.Sprintf("GitHub App %d %s at %s", a.AppID, inst, a.apiURL())
}

// cacheKey identifies the token: a different key, installation or endpoint is another token.
func (a *GitHubApp) cacheKey() string {
	return strings.Join([]string{"github", strconv.FormatInt(a.AppID, 10), strconv.FormatInt(a.InstallationID, 10),
		strings.ToLower(a.InstallationOwner), a.apiURL(), a.keyHash}, "\x00")
}

// GitHubTokenOptions are how a token request reaches GitHub.
type GitHubTokenOptions struct {
	// Proxy, when set, is the proxy every request goes through (spec.proxySecretRef); else
	// the environment's.
	Proxy *url.URL
	// Cache keeps tokens across reconciles; nil asks every time.
	Cache *TokenCache
}

// Token returns an installation access token, from the cache when one is still good.
func (a *GitHubApp) Token(ctx context.Context, opts GitHubTokenOptions) (Token, error) {
	tok, _, err := opts.Cache.GetOrFetch(ctx, a.cacheKey(), func(ctx context.Context) (Token, error) {
		return a.fetchToken(ctx, opts)
	})
	return tok, err
}

func (a *GitHubApp) fetchToken(ctx context.Context, opts GitHubTokenOptions) (Token, error) {
	client, err := a.client(opts.Proxy)
	if err != nil {
		return Token{}, err
	}
	id := a.InstallationID
	if id == 0 {
		if id, err = a.findInstallation(ctx, client); err != nil {
			return Token{}, err
		}
	}
	it, _, err := client.Apps.CreateInstallationToken(ctx, id, nil)
	if err != nil {
		return Token{}, fmt.Errorf("failed to get an access token for %s: %w", a, describeGitHubError(err))
	}
	if it.GetToken() == "" {
		return Token{}, fmt.Errorf("failed to get an access token for %s: the answer holds no token", a)
	}
	return Token{Value: it.GetToken(), Username: GitHubAccessTokenUser, ExpiresAt: it.GetExpiresAt().Time}, nil
}

// findInstallation looks the owner's installation up among the app's installations; the
// account login is compared case-insensitively, as GitHub does.
func (a *GitHubApp) findInstallation(ctx context.Context, client *github.Client) (int64, error) {
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := client.Apps.ListInstallations(ctx, opts)
		if err != nil {
			return 0, fmt.Errorf("failed to list the installations of %s: %w", a, describeGitHubError(err))
		}
		for _, inst := range page {
			if strings.EqualFold(inst.GetAccount().GetLogin(), a.InstallationOwner) {
				return inst.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, fmt.Errorf("%s: the app is not installed for owner '%s'", a, a.InstallationOwner)
		}
		opts.Page = resp.NextPage
	}
}

// client is a go-github client that signs every request with a fresh app JWT.
func (a *GitHubApp) client(proxy *url.URL) (*github.Client, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	if a.tls != nil {
		base.TLSClientConfig = a.tls.Clone()
	}
	if proxy != nil {
		base.Proxy = http.ProxyURL(proxy)
	}
	c := github.NewClient(&http.Client{Transport: &appJWTTransport{app: a, base: base}, Timeout: time.Minute})
	if a.BaseURL == "" {
		return c, nil
	}
	api := a.apiURL()
	c, err := c.WithEnterpriseURLs(api, api)
	if err != nil {
		return nil, fmt.Errorf("'%s': %w", KeyGitHubAppBaseURL, err)
	}
	// WithEnterpriseURLs adds /api/v3/ to a host-only URL; keep an explicit path as given.
	if u, _ := url.Parse(api); u != nil && u.Path != "/" && u.Path != "" {
		c.BaseURL = u
	}
	return c, nil
}

// appJWTTransport authenticates as the app (RS256 JWT, issuer = app ID).
type appJWTTransport struct {
	app  *GitHubApp
	base http.RoundTripper
}

func (t *appJWTTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	now := time.Now()
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		// Backdated a minute against clock skew, as GitHub recommends.
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(appJWTLifetime)),
		Issuer:    strconv.FormatInt(t.app.AppID, 10),
	}).SignedString(t.app.key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign the app JWT: %w", err)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+signed)
	return t.base.RoundTrip(r)
}

// describeGitHubError keeps GitHub's status and message and the endpoint, dropping
// anything else the error carries.
func describeGitHubError(err error) error {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		return fmt.Errorf("%s %s: %d %s", ge.Response.Request.Method, ge.Response.Request.URL.Redacted(), ge.Response.StatusCode, ge.Message)
	}
	return err
}
