package repository

import (
	"crypto/tls"
	"net/url"
	"time"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
)

// DefaultTimeout bounds one request when ClientOptions.Timeout is zero (spec.timeout's
// default).
const DefaultTimeout = 60 * time.Second

// ClientOptions configure a Client for one HTTP(S) Helm repository.
type ClientOptions struct {
	// URL of the repository (spec.url), http or https, without credentials.
	URL string
	// Username and Password are sent as basic auth, to the repository host only unless
	// PassCredentials is set.
	Username, Password string
	// PassCredentials also sends the credentials to other hosts, e.g. chart URLs on a CDN
	// (spec.passCredentials).
	PassCredentials bool
	// TLSConfig sets trusted CAs and a client certificate. Nil uses the system roots.
	TLSConfig *tls.Config
	// TLSFromAuthSecret is set when TLSConfig came from the deprecated caFile/certFile/keyFile
	// keys of spec.secretRef; the reconciler should warn that spec.certSecretRef replaces them.
	TLSFromAuthSecret bool
	// ProxyURL sends every request through this proxy. Nil uses the environment
	// (HTTPS_PROXY, NO_PROXY).
	ProxyURL *url.URL
	// Timeout bounds each request (spec.timeout). Zero means DefaultTimeout.
	Timeout time.Duration
	// Limits bound the index and chart downloads.
	Limits helm.Limits
	// UserAgent is sent with every request. Empty uses DefaultUserAgent.
	UserAgent string
}

// DefaultUserAgent identifies the controller to repository servers. Some servers (e.g.
// ChartMuseum behind proxies) only answer clients that look like Helm, so it starts with
// Helm's product token.
const DefaultUserAgent = "Helm/3 (gotk source-controller)"

// OptionsFromSpec builds the client options of a HelmRepository of type "default" from its
// spec and the Secrets it references: auth is spec.secretRef's Secret (nil when unset), cert
// spec.certSecretRef's (nil when unset).
//
// TLS comes from the cert Secret; without one, from the deprecated keys of the auth Secret
// (then TLSFromAuthSecret is set). Malformed Secrets give a *SecretError naming the Secret and
// key; an unusable URL a *URLError.
func OptionsFromSpec(spec *sourcev1.HelmRepositorySpec, auth, cert *SecretData, limits helm.Limits) (*ClientOptions, error) {
	if _, err := parseRepositoryURL(spec.URL); err != nil {
		return nil, err
	}
	opts := &ClientOptions{
		URL:             spec.URL,
		PassCredentials: spec.PassCredentials,
		Timeout:         DefaultTimeout,
		Limits:          limits,
	}
	if spec.Timeout != nil && spec.Timeout.Duration > 0 {
		opts.Timeout = spec.Timeout.Duration
	}
	if cert != nil {
		cfg, err := TLSConfigFromCertSecret(*cert)
		if err != nil {
			return nil, err
		}
		opts.TLSConfig = cfg
	}
	if auth != nil {
		user, pass, ok, err := BasicAuthFromSecret(*auth)
		if err != nil {
			return nil, err
		}
		if ok {
			opts.Username, opts.Password = user, pass
		}
		if opts.TLSConfig == nil {
			cfg, err := TLSConfigFromAuthSecret(*auth)
			if err != nil {
				return nil, err
			}
			opts.TLSConfig, opts.TLSFromAuthSecret = cfg, cfg != nil
		}
	}
	return opts, nil
}
