package notifier

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"sigs.k8s.io/yaml"

	"gotk.dev/notification-controller/api/v1beta3"
)

// Options is everything a notifier needs, resolved from the Provider spec and its Secrets.
type Options struct {
	// Type is the Provider's spec.type.
	Type string
	// Address is the endpoint; its meaning depends on the type (a URL, a GCP project, ...).
	Address string
	// Channel, Username: the Provider's fields (a Secret's username overrides the spec).
	Channel  string
	Username string
	// Password and Token come from the Provider's Secret.
	Password string
	Token    string
	// Headers are added to every HTTP request (the Secret's `headers` key); for googlepubsub
	// they become message attributes.
	Headers map[string]string
	// ProxyURL is an HTTP(S) proxy; it may carry credentials.
	ProxyURL string
	// CAData, CertData and KeyData configure TLS (the certSecretRef's ca.crt, tls.crt, tls.key).
	CAData, CertData, KeyData []byte
	// Timeout bounds one delivery (spec.timeout, 15s when unset).
	Timeout time.Duration
	// ProviderUID is the Provider's metadata.uid; Git commit status IDs end with its first segment.
	ProviderUID string
	// CommitStatusExpr is spec.commitStatusExpr: a CEL expression giving the commit status ID.
	CommitStatusExpr string
	// Provider and Alert are exposed to CommitStatusExpr as `provider` and `alert`.
	Provider *v1beta3.Provider
	Alert    *v1beta3.Alert
}

// FromProvider resolves Options from a Provider and the data of the Secrets it references
// (nil when the reference is unset): secret is spec.secretRef, cert is spec.certSecretRef and
// proxy is spec.proxySecretRef. Secret keys override spec fields as upstream documents:
// `address`, `proxy`, `username` override their spec fields, `token`, `password` and `headers`
// add credentials.
func FromProvider(p *v1beta3.Provider, secret, cert, proxy map[string][]byte) (Options, error) {
	ref := p.Namespace + "/" + p.Name
	o := Options{
		Type:             p.Spec.Type,
		Address:          strings.TrimSpace(p.Spec.Address),
		Channel:          p.Spec.Channel,
		Username:         p.Spec.Username,
		ProxyURL:         strings.TrimSpace(p.Spec.Proxy),
		Timeout:          p.GetTimeout(),
		ProviderUID:      string(p.UID),
		CommitStatusExpr: p.Spec.CommitStatusExpr,
		Provider:         p,
	}
	if v, ok := secret["address"]; ok {
		o.Address = strings.TrimSpace(string(v))
	}
	if v, ok := secret["proxy"]; ok {
		o.ProxyURL = strings.TrimSpace(string(v))
	}
	if v, ok := secret["username"]; ok {
		o.Username = string(v)
	}
	o.Token = strings.TrimSpace(string(secret["token"]))
	o.Password = string(secret["password"])
	if v, ok := secret["headers"]; ok {
		h := map[string]string{}
		if err := yaml.Unmarshal(v, &h); err != nil {
			// The YAML error may quote the value: name the key, not its content.
			return Options{}, fmt.Errorf("Provider %s: key 'headers' of Secret %q is not a YAML map of strings", ref, secretName(p.Spec.SecretRef))
		}
		o.Headers = h
	}
	if proxy != nil {
		u, err := proxyFromSecret(proxy)
		if err != nil {
			return Options{}, fmt.Errorf("Provider %s: Secret %q of proxySecretRef: %w", ref, secretName(p.Spec.ProxySecretRef), err)
		}
		o.ProxyURL = u
	}
	if cert != nil {
		o.CAData = cert["ca.crt"]
		if len(o.CAData) == 0 {
			o.CAData = cert["caFile"] // deprecated key, still honoured
		}
		o.CertData, o.KeyData = cert["tls.crt"], cert["tls.key"]
		if (len(o.CertData) == 0) != (len(o.KeyData) == 0) {
			return Options{}, fmt.Errorf("Provider %s: Secret %q of certSecretRef must hold both tls.crt and tls.key, or neither", ref, secretName(p.Spec.CertSecretRef))
		}
	}
	if o.ProxyURL != "" {
		if err := validateHTTPURL(o.ProxyURL); err != nil {
			return Options{}, fmt.Errorf("Provider %s: invalid proxy: %w", ref, err)
		}
	}
	return o, nil
}

func secretName(r *meta.LocalObjectReference) string {
	if r == nil {
		return ""
	}
	return r.Name
}

// proxyFromSecret reads the proxySecretRef keys: `address`, and optional `username`/`password`.
func proxyFromSecret(data map[string][]byte) (string, error) {
	addr := strings.TrimSpace(string(data["address"]))
	if addr == "" {
		return "", errors.New("key 'address' is missing")
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "", errors.New("key 'address' is not a URL")
	}
	if user, ok := data["username"]; ok {
		u.User = url.UserPassword(string(user), string(data["password"]))
	}
	return u.String(), nil
}

// validateHTTPURL checks raw is an absolute http(s) URL without quoting it back (it may hold
// credentials).
func validateHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s is not an absolute http(s) URL", redactURL(raw))
	}
	return nil
}
