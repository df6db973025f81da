// Package proxy reads the proxy Secret that Flux objects name in .spec.proxySecretRef
// (GitRepository, OCIRepository, HelmRepository, Bucket, ImageRepository): `address`, and
// optionally `username` and `password`. It is shared by the Git, OCI, bucket and registry
// clients, so every kind accepts the same Secret and reports the same errors, none of which
// contains the password.
package proxy

import (
	"fmt"
	"net/url"
	"strings"
)

// The keys of a proxy Secret.
const (
	KeyAddress  = "address"
	KeyUsername = "username"
	KeyPassword = "password"
)

// Options name a proxy: an http(s):// proxy for HTTP(S) traffic, a socks5:// proxy for any.
// Never log them: String redacts the password, but the field holds it in clear.
type Options struct {
	URL      string
	Username string
	Password string
}

// FromSecret builds Options from a proxy Secret's data and validates them.
func FromSecret(data map[string][]byte) (*Options, error) {
	addr := strings.TrimSpace(string(data[KeyAddress]))
	if addr == "" {
		return nil, fmt.Errorf("invalid proxy secret: '%s' is required", KeyAddress)
	}
	u, err := url.Parse(addr)
	if err != nil {
		// url's error quotes the whole address, which may carry credentials.
		return nil, fmt.Errorf("invalid proxy secret: '%s' is not a URL", KeyAddress)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("invalid proxy secret: unsupported scheme %q in '%s' (want http, https or socks5)", u.Scheme, KeyAddress)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid proxy secret: '%s' %s has no host", KeyAddress, redact(u))
	}
	o := &Options{URL: addr, Username: string(data[KeyUsername]), Password: string(data[KeyPassword])}
	if o.Password != "" && o.Username == "" {
		return nil, fmt.Errorf("invalid proxy secret: '%s' requires '%s'", KeyPassword, KeyUsername)
	}
	return o, nil
}

// ProxyURL is the proxy as a URL for net/http's Transport.Proxy: the username and password
// ride in its userinfo, which net/http sends as Proxy-Authorization.
func (o *Options) ProxyURL() (*url.URL, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("invalid proxy address '%s'", o.String())
	}
	if o.Username != "" {
		u.User = url.UserPassword(o.Username, o.Password)
	}
	return u, nil
}

// String describes the proxy without credentials.
func (o *Options) String() string {
	if o == nil {
		return "<no proxy>"
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return "proxy <invalid address>"
	}
	return "proxy " + redact(u)
}

// redact formats u without its userinfo.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
