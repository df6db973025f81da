package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/proxy"
)

// DefaultPageSize is how many tags one tag-list request asks for.
const DefaultPageSize = 1000

// Options say how to reach a registry. Every field is optional.
type Options struct {
	// DockerConfigs are .dockerconfigjson values: .spec.secretRef's first, then those of the
	// service account's imagePullSecrets. The first matching entry wins.
	DockerConfigs [][]byte
	// CertSecretData is the data of .spec.certSecretRef: ca.crt and/or tls.crt with tls.key
	// (the deprecated caFile, certFile and keyFile are read too).
	CertSecretData map[string][]byte
	// ProxySecretData is the data of .spec.proxySecretRef: address, username, password.
	ProxySecretData map[string][]byte
	// Insecure (.spec.insecure) allows plain HTTP. It must also be given to ParseImage.
	Insecure bool
	// PageSize is the number of tags asked for per request (default DefaultPageSize).
	PageSize int
	// UserAgent is sent with every request.
	UserAgent string
	// Transport is the base HTTP transport (default: go-containerregistry's). TLS and proxy
	// settings are applied to a copy.
	Transport *http.Transport
	// Keychain gives credentials when DockerConfigs is empty (a cloud provider's login).
	Keychain authn.Keychain
}

// HTTPTransport is the transport registries are reached through: Transport (or
// go-containerregistry's default) with the certSecretRef and proxySecretRef settings.
func (opts Options) HTTPTransport() (*http.Transport, error) {
	base := opts.Transport
	if base == nil {
		base = remote.DefaultTransport.(*http.Transport)
	}
	rt := base.Clone()
	if opts.CertSecretData != nil {
		cfg, err := oci.TLSConfigFromSecret(opts.CertSecretData)
		if err != nil {
			return nil, fmt.Errorf("invalid certSecretRef: %w", err)
		}
		rt.TLSClientConfig = cfg
	} else if rt.TLSClientConfig == nil {
		rt.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	proxy, err := opts.Proxy()
	if err != nil {
		return nil, err
	}
	if proxy != nil {
		rt.Proxy = http.ProxyURL(proxy)
	}
	return rt, nil
}

// Proxy is the proxy of proxySecretRef (with its credentials), nil without one.
func (opts Options) Proxy() (*url.URL, error) {
	if opts.ProxySecretData == nil {
		return nil, nil
	}
	return proxyURL(opts.ProxySecretData)
}

// Client reaches one registry configuration. It is safe for concurrent use.
type Client struct {
	puller *remote.Puller
}

// NewClient validates opts and builds a Client. Errors name the Secret key at fault, never a
// secret value.
func NewClient(opts Options) (*Client, error) {
	// No Secret means anonymous access, never the controller's own docker config.
	var keychain authn.Keychain = authn.NewMultiKeychain()
	if len(opts.DockerConfigs) > 0 {
		kc, err := oci.KeychainFromDockerConfigs(opts.DockerConfigs...)
		if err != nil {
			return nil, fmt.Errorf("invalid registry credentials: %w", err)
		}
		keychain = kc
	}
	rt, err := opts.HTTPTransport()
	if err != nil {
		return nil, err
	}
	if opts.Keychain != nil && len(opts.DockerConfigs) == 0 {
		keychain = opts.Keychain
	}
	pageSize := opts.PageSize
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	ropts := []remote.Option{
		remote.WithTransport(rt),
		remote.WithAuthFromKeychain(keychain),
		remote.WithPageSize(pageSize),
	}
	if opts.UserAgent != "" {
		ropts = append(ropts, remote.WithUserAgent(opts.UserAgent))
	}
	puller, err := remote.NewPuller(ropts...)
	if err != nil {
		return nil, err
	}
	return &Client{puller: puller}, nil
}

// proxyURL parses a proxy Secret (the format every Flux kind uses); credentials ride in the
// URL's userinfo, which net/http turns into Proxy-Authorization.
func proxyURL(data map[string][]byte) (*url.URL, error) {
	p, err := proxy.FromSecret(data)
	if err != nil {
		return nil, errors.New("invalid proxySecretRef: " + err.Error())
	}
	u, err := p.ProxyURL()
	if err != nil {
		return nil, errors.New("invalid proxySecretRef: " + err.Error())
	}
	return u, nil
}
