package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"

	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
)

// Request names the registry an object logs in to and how it is reached.
type Request struct {
	// Provider is the object's spec.provider (aws, azure or gcp).
	Provider string
	// Host is the registry host, with an optional port.
	Host string
	// Namespace and ServiceAccount are the object's namespace and spec.serviceAccountName
	// (empty for none): with the ObjectLevelWorkloadIdentity gate (Logins.ObjectLevel) it,
	// or --default-service-account, is the identity logged in as; without the gate it must
	// be empty.
	Namespace, ServiceAccount string
	// Transport is the one the registry is reached through (its TLS and proxy settings):
	// ACR exchanges the Entra ID token on the registry host itself. Nil means
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Proxy is the object's spec.proxySecretRef proxy (with its credentials), nil for
	// none: the exchanges with the cloud (STS, ECR, Entra ID, Google) go through it too.
	Proxy *url.URL
}

// Keychain logs in to r's registry and returns a keychain with those credentials for that
// host only (other hosts are anonymous).
func Keychain(ctx context.Context, l *cloud.Logins, r Request) (authn.Keychain, error) {
	sa, err := l.ServiceAccountFor(r.ServiceAccount)
	if err != nil {
		return nil, err
	}
	tok, err := login(ctx, l.Via(r.Proxy), r.Provider, r.Host, r.Namespace, sa, r.Transport)
	if err != nil {
		return nil, err
	}
	return hostKeychain{host: strings.ToLower(r.Host), tok: tok}, nil
}

// Login returns the user name and password (auth.Token) for the registry host under the
// controller's identity of provider, from the cache when a live one is held.
func Login(ctx context.Context, l *cloud.Logins, provider, host string, transport http.RoundTripper) (auth.Token, error) {
	return login(ctx, l, provider, host, "", "", transport)
}

// login logs in as the controller (serviceAccount "") or as the service account's cloud
// identity: its token (TokenRequest) exchanged at the cloud (STS AssumeRoleWithWebIdentity
// in the registry's region, an Entra ID federated client assertion, Google's STS).
// Credentials are cached per host, identity and proxy.
func login(ctx context.Context, l *cloud.Logins, provider, host, namespace, serviceAccount string, transport http.RoundTripper) (auth.Token, error) {
	if err := CheckHost(provider, host); err != nil {
		return auth.Token{}, err
	}
	// identity names the service account's cloud identity ("" for the controller's): the
	// cache key changes with its annotations.
	identity := ""
	if serviceAccount != "" {
		id, err := l.IdentityOf(ctx, provider, namespace, serviceAccount)
		if err != nil {
			return auth.Token{}, &cloud.LoginError{Provider: provider, Identity: id, Err: err}
		}
		identity = id
	}
	key := l.CacheKey("registry", provider, strings.ToLower(host), "controller", identity)
	tok, _, err := l.Cache.GetOrFetch(ctx, key, func(ctx context.Context) (auth.Token, error) {
		switch provider {
		case cloud.ProviderAWS:
			return ecrLogin(ctx, l, hostname(host), namespace, serviceAccount, identity)
		case cloud.ProviderAzure:
			return acrLogin(ctx, l, host, namespace, serviceAccount, identity, transport)
		default:
			return gcpLogin(ctx, l, namespace, serviceAccount)
		}
	})
	return tok, err
}

// CheckHost returns a *cloud.HostError when host (with an optional port) is not a registry
// of provider. It makes no request.
func CheckHost(provider, host string) error {
	h := hostname(host)
	var ok bool
	var want string
	switch provider {
	case cloud.ProviderAWS:
		_, ok = parseECRHost(h)
		want = "an Amazon ECR registry (<account>.dkr.ecr.<region>.amazonaws.com)"
	case cloud.ProviderAzure:
		_, ok = acrCloud(h)
		want = "an Azure Container Registry (<name>.azurecr.io)"
	case cloud.ProviderGCP:
		ok = isGoogleRegistry(h)
		want = "a Google registry (gcr.io, <region>.gcr.io or <region>-docker.pkg.dev)"
	default:
		return fmt.Errorf("unknown provider '%s'", provider)
	}
	if !ok {
		return &cloud.HostError{Provider: provider, Host: host, Want: want}
	}
	return nil
}

// hostKeychain answers one registry host with one credential.
type hostKeychain struct {
	host string
	tok  auth.Token
}

func (k hostKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if strings.EqualFold(r.RegistryStr(), k.host) {
		return &authn.Basic{Username: k.tok.Username, Password: k.tok.Value}, nil
	}
	return authn.Anonymous, nil
}

// hostname drops a port.
func hostname(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return strings.ToLower(host[:i])
	}
	return strings.ToLower(host)
}
