package git

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"gotk.dev/pkg/proxy"
	"gotk.dev/pkg/redact"
)

// Transport is the protocol a repository URL uses.
type Transport string

const (
	HTTP  Transport = "http"
	HTTPS Transport = "https"
	SSH   Transport = "ssh"
)

// The keys of a Flux Git credentials Secret (GitRepository .spec.secretRef,
// ImageUpdateAutomation, flux create secret git).
const (
	KeyUsername    = "username"
	KeyPassword    = "password"
	KeyBearerToken = "bearerToken"
	KeyIdentity    = "identity"
	KeyKnownHosts  = "known_hosts"
	KeyCACert      = "ca.crt"
	KeyCAFile      = "caFile" // legacy name of ca.crt
	KeyTLSCert     = "tls.crt"
	KeyTLSKey      = "tls.key"
)

// AuthOptions are the credentials and trust settings for one repository URL.
// Build them with NewAuthOptions. Never log them: String redacts the secrets,
// but the fields hold them in clear.
type AuthOptions struct {
	Transport Transport
	// Host is the URL's host[:port], used in error messages.
	Host string

	// HTTP(S) basic auth user, or the SSH user (from the URL, else the
	// Secret's username, else "git"). A BearerToken takes precedence over
	// basic auth.
	Username string
	// Password is the basic auth password over HTTP(S) or the passphrase of
	// an encrypted Identity over SSH.
	Password    string
	BearerToken string

	// CACert is a PEM bundle trusted in addition to the system roots.
	CACert []byte
	// TLSCert and TLSKey are a PEM client certificate for mutual TLS.
	TLSCert, TLSKey []byte

	// Identity is the SSH private key (PEM); KnownHosts the known_hosts
	// content the server's host key must match. Both are required for SSH.
	Identity   []byte
	KnownHosts []byte
}

// NewAuthOptions builds AuthOptions for u from a Secret's data (nil data
// means no Secret) and validates the combination.
func NewAuthOptions(u *url.URL, data map[string][]byte) (*AuthOptions, error) {
	if u == nil {
		return nil, errors.New("repository URL is required")
	}
	o := &AuthOptions{Transport: Transport(strings.ToLower(u.Scheme)), Host: u.Host}
	switch o.Transport {
	case HTTP, HTTPS, SSH:
	default:
		return nil, fmt.Errorf("unsupported URL scheme %q in %s: want http, https or ssh", u.Scheme, redact.URL(u.String()))
	}
	get := func(k string) string { return string(data[k]) }
	o.Username = get(KeyUsername)
	o.Password = get(KeyPassword)
	o.BearerToken = get(KeyBearerToken)
	o.CACert = data[KeyCACert]
	if len(o.CACert) == 0 {
		o.CACert = data[KeyCAFile]
	}
	o.TLSCert, o.TLSKey = data[KeyTLSCert], data[KeyTLSKey]
	o.Identity, o.KnownHosts = data[KeyIdentity], data[KeyKnownHosts]
	switch {
	case o.Transport == SSH:
		// The account is part of an SSH URL (git@host); "git" is what
		// every hosting service expects when it is missing.
		if name := u.User.Username(); name != "" {
			o.Username = name
		}
		if o.Username == "" {
			o.Username = "git"
		}
	case o.Username == "" && o.BearerToken == "" && u.User != nil:
		// Credentials embedded in an http(s) URL, as git itself accepts.
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// Validate reports combinations that cannot work, naming the host.
func (o *AuthOptions) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("invalid credentials for %s URL of host %q: %s", o.Transport, o.Host, fmt.Sprintf(format, args...))
	}
	switch o.Transport {
	case HTTP, HTTPS:
		if len(o.Identity) > 0 {
			return fail("'%s' (an SSH key) can only be used with an ssh:// URL", KeyIdentity)
		}
		if o.Password != "" && o.Username == "" {
			return fail("'%s' requires '%s'", KeyPassword, KeyUsername)
		}
		if (len(o.TLSCert) > 0) != (len(o.TLSKey) > 0) {
			return fail("'%s' and '%s' must be set together", KeyTLSCert, KeyTLSKey)
		}
	case SSH:
		if len(o.Identity) == 0 {
			return fail("'%s' (the SSH private key) is required", KeyIdentity)
		}
		if len(o.KnownHosts) == 0 {
			return fail("'%s' is required: host keys are always verified", KeyKnownHosts)
		}
		if _, err := parseKnownHosts(o.KnownHosts); err != nil {
			return fail("'%s': %v", KeyKnownHosts, err)
		}
	default:
		return fmt.Errorf("unsupported transport %q", o.Transport)
	}
	return nil
}

// String describes the options without secrets, so accidental logging of
// an AuthOptions value leaks nothing.
func (o *AuthOptions) String() string {
	if o == nil {
		return "<no auth>"
	}
	var set []string
	add := func(name string, ok bool) {
		if ok {
			set = append(set, name)
		}
	}
	add("username="+o.Username, o.Username != "")
	add("password=<redacted>", o.Password != "")
	add("bearerToken=<redacted>", o.BearerToken != "")
	add("ca.crt", len(o.CACert) > 0)
	add("tls.crt", len(o.TLSCert) > 0)
	add("identity=<redacted>", len(o.Identity) > 0)
	add("known_hosts", len(o.KnownHosts) > 0)
	return fmt.Sprintf("%s auth for %s {%s}", o.Transport, o.Host, strings.Join(set, ", "))
}

// GoString keeps %#v from printing the secret fields.
func (o *AuthOptions) GoString() string { return o.String() }

// secrets lists the values that must never appear in an error.
func (o *AuthOptions) secrets() []string {
	if o == nil {
		return nil
	}
	return []string{o.Password, o.BearerToken, string(o.Identity), string(o.TLSKey)}
}

// The keys of a proxy Secret (GitRepository .spec.proxySecretRef); see package proxy.
const (
	KeyProxyAddress  = proxy.KeyAddress
	KeyProxyUsername = proxy.KeyUsername
	KeyProxyPassword = proxy.KeyPassword
)

// ProxyOptions name a proxy for Git traffic: an http(s):// proxy for HTTP(S) remotes, a
// socks5:// proxy for either. It is the proxy Secret every Flux kind shares.
type ProxyOptions = proxy.Options

// NewProxyOptions builds ProxyOptions from a proxy Secret's data (proxy.FromSecret).
func NewProxyOptions(data map[string][]byte) (*ProxyOptions, error) {
	return proxy.FromSecret(data)
}
