// Package oci pulls and pushes Flux OCI artifacts: the source-controller OCIRepository and the
// flux CLI's push/pull/tag/list commands share it.
//
// A Flux artifact is an OCI image manifest with an empty JSON config of media type
// application/vnd.cncf.flux.config.v1+json and one tar+gzip layer of media type
// application/vnd.cncf.flux.content.v1.tar+gzip, annotated with the creation time, source URL
// and source revision (the org.opencontainers.image.* keys). Artifacts written here are read
// by upstream Flux and the other way round.
package oci

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ClientOptions configure how a Client reaches registries.
type ClientOptions struct {
	// Keychain resolves credentials per registry. Nil means anonymous.
	Keychain authn.Keychain
	// Insecure allows plain HTTP (HTTPS is still tried first).
	Insecure bool
	// HTTPSOnly refuses plain HTTP when Insecure is not set, also to the loopback and
	// private addresses go-containerregistry would otherwise reach over HTTP: what a tenant
	// names must not be downgraded silently. Controllers set it; the CLI follows
	// go-containerregistry's defaults.
	HTTPSOnly bool
	// TLSConfig sets trusted CAs and client certificates for HTTPS.
	TLSConfig *tls.Config
	// Proxy sends every request through this HTTP(S) proxy. Nil uses the environment
	// (HTTPS_PROXY, NO_PROXY).
	Proxy *url.URL
	// UserAgent is sent with every request.
	UserAgent string
	// Transport replaces the default HTTP transport. TLSConfig and Proxy are applied to it
	// when it is an *http.Transport (on a copy), and rejected otherwise.
	Transport http.RoundTripper
}

// Client talks to OCI registries. It is safe for concurrent use and caches registry tokens
// per repository, so reuse one Client for repeated calls with the same credentials.
type Client struct {
	remote   []remote.Option
	nameOpts []name.Option
	puller   *remote.Puller
}

// NewClient builds a Client.
func NewClient(opts ClientOptions) (*Client, error) {
	rt, err := buildTransport(opts)
	if err != nil {
		return nil, err
	}
	if opts.HTTPSOnly && !opts.Insecure {
		rt = HTTPSOnly(rt)
	}
	ropts := []remote.Option{remote.WithTransport(rt)}
	if opts.Keychain != nil {
		ropts = append(ropts, remote.WithAuthFromKeychain(opts.Keychain))
	}
	if opts.UserAgent != "" {
		ropts = append(ropts, remote.WithUserAgent(opts.UserAgent))
	}
	puller, err := remote.NewPuller(ropts...)
	if err != nil {
		return nil, err
	}
	c := &Client{remote: ropts, puller: puller}
	if opts.Insecure {
		c.nameOpts = append(c.nameOpts, name.Insecure)
	}
	return c, nil
}

// buildTransport returns the transport with TLS and proxy settings applied, never modifying
// the caller's transport.
func buildTransport(opts ClientOptions) (http.RoundTripper, error) {
	rt := opts.Transport
	if rt == nil {
		rt = remote.DefaultTransport
	}
	if opts.TLSConfig == nil && opts.Proxy == nil {
		return rt, nil
	}
	ht, ok := rt.(*http.Transport)
	if !ok {
		return nil, errors.New("oci client: TLSConfig and Proxy need the Transport to be an *http.Transport")
	}
	ht = ht.Clone()
	if opts.TLSConfig != nil {
		ht.TLSClientConfig = opts.TLSConfig.Clone()
	}
	if opts.Proxy != nil {
		ht.Proxy = http.ProxyURL(opts.Proxy)
	}
	return ht, nil
}

// HTTPSOnly wraps rt to refuse plain HTTP requests, with an error that says how to allow
// them.
func HTTPSOnly(rt http.RoundTripper) http.RoundTripper { return httpsOnly{rt} }

type httpsOnly struct{ rt http.RoundTripper }

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return nil, fmt.Errorf("plain HTTP to %s refused: set spec.insecure to allow it", req.URL.Host)
	}
	return h.rt.RoundTrip(req)
}

// pusher returns a fresh Pusher: a Pusher remembers every blob it uploaded for its whole life,
// which would hide blobs deleted from the registry since (and grow without bound) in a
// long-lived Client.
func (c *Client) pusher() (*remote.Pusher, error) {
	return remote.NewPusher(c.remote...)
}

// repository parses an oci:// repository URL.
func (c *Client) repository(repoURL string) (name.Repository, error) {
	repo, err := ParseURL(repoURL)
	if err != nil {
		return name.Repository{}, err
	}
	r, err := name.NewRepository(repo, c.nameOpts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("invalid OCI repository URL %q: %w", repoURL, err)
	}
	return r, nil
}

// reference parses an oci:// artifact URL with an optional :tag or @digest (default :latest).
func (c *Client) reference(ref string) (name.Reference, error) {
	s, err := trimScheme(ref)
	if err != nil {
		return nil, err
	}
	r, err := name.ParseReference(s, c.nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("invalid OCI artifact URL %q: %w", ref, err)
	}
	return r, nil
}

// RemoteOptions are the go-containerregistry options of c's requests (transport, credentials,
// user agent), for code that reads more from the same registry with the same identity:
// signature verification fetches signature manifests with them.
func (c *Client) RemoteOptions() []remote.Option { return append([]remote.Option(nil), c.remote...) }

// Repository parses an oci:// repository URL the way c's other calls do (spec.insecure allows
// plain HTTP).
func (c *Client) Repository(repoURL string) (name.Repository, error) { return c.repository(repoURL) }

// HTTPTransport is the transport a Client built from opts reaches registries through (its
// TLS and proxy settings), for requests made beside the client (a cloud registry's token
// exchange).
func (opts ClientOptions) HTTPTransport() (http.RoundTripper, error) { return buildTransport(opts) }
