// Package ocirepo pulls Helm charts from OCI registries (HelmRepository spec.type "oci"):
// a chart "podinfo" of the repository oci://ghcr.io/org/charts is the OCI repository
// ghcr.io/org/charts/podinfo, one tag per chart version (Helm writes "+" as "_" in tags).
//
// It uses go-containerregistry: tags are listed and matched against a semver range, the
// manifest is checked to be a Helm chart (config media type
// application/vnd.cncf.helm.config.v1+json) and the chart layer is fetched with its size
// bounded by --helm-chart-max-size and its digest verified.
package ocirepo

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/repository"
)

// DefaultTimeout bounds one registry operation when Options.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// DockerConfigJSONKey is the key of a kubernetes.io/dockerconfigjson Secret.
const DockerConfigJSONKey = ".dockerconfigjson"

// Options configure a Client for one OCI Helm repository.
type Options struct {
	// URL is spec.url: oci://<host>[:port]/<path>, without tag or credentials.
	URL string
	// Username and Password authenticate with basic auth (token exchange included).
	Username, Password string
	// Keychain resolves credentials per registry (a docker config Secret). It is used when
	// Username is empty.
	Keychain authn.Keychain
	// TLSConfig sets trusted CAs and a client certificate.
	TLSConfig *tls.Config
	// Insecure allows plain HTTP (spec.insecure).
	Insecure bool
	// ProxyURL sends requests through this proxy; nil uses the environment.
	ProxyURL *url.URL
	// Timeout bounds each operation (spec.timeout). Zero means DefaultTimeout.
	Timeout time.Duration
	// Limits bound the chart download.
	Limits helm.Limits
	// UserAgent is sent with every request.
	UserAgent string
}

// OptionsFromSpec builds the options of a HelmRepository of type "oci" from its spec and
// Secrets: auth (spec.secretRef) holds 'username'/'password' or a '.dockerconfigjson'; cert
// (spec.certSecretRef) holds TLS material. A cloud spec.provider (aws, azure, gcp) without
// spec.secretRef is left to the caller, which logs in and sets Keychain.
func OptionsFromSpec(spec *sourcev1.HelmRepositorySpec, auth, cert *repository.SecretData, limits helm.Limits) (*Options, error) {
	if _, err := oci.ParseURL(spec.URL); err != nil {
		return nil, &repository.URLError{URL: spec.URL, Reason: err.Error()}
	}
	switch spec.Provider {
	case "", sourcev1.GenericOCIProvider, sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider:
	default:
		return nil, fmt.Errorf("unknown spec.provider '%s': want generic, aws, azure or gcp", spec.Provider)
	}
	opts := &Options{URL: spec.URL, Insecure: spec.Insecure, Timeout: DefaultTimeout, Limits: limits}
	if spec.Timeout != nil && spec.Timeout.Duration > 0 {
		opts.Timeout = spec.Timeout.Duration
	}
	if auth != nil {
		if cfg, ok := auth.Data[DockerConfigJSONKey]; ok {
			kc, err := oci.KeychainFromDockerConfigs(cfg)
			if err != nil {
				return nil, &repository.SecretError{Secret: auth.Name, Key: DockerConfigJSONKey, Reason: err.Error()}
			}
			opts.Keychain = kc
		} else {
			user, pass, ok, err := repository.BasicAuthFromSecret(*auth)
			if err != nil {
				return nil, err
			}
			if ok {
				opts.Username, opts.Password = user, pass
			}
		}
	}
	if cert != nil {
		cfg, err := repository.TLSConfigFromCertSecret(*cert)
		if err != nil {
			return nil, err
		}
		opts.TLSConfig = cfg
	}
	return opts, nil
}

// Transport is the HTTP transport the registry is reached through: go-containerregistry's
// default with the TLS and proxy settings applied.
func (o *Options) Transport() *http.Transport {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	if o.TLSConfig != nil {
		tr.TLSClientConfig = o.TLSConfig.Clone()
	}
	if o.ProxyURL != nil {
		tr.Proxy = http.ProxyURL(o.ProxyURL)
	}
	return tr
}
