package git

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const testKnownHosts = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNewAuthOptions(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		data    map[string]string
		wantErr string
		check   func(t *testing.T, o *AuthOptions)
	}{
		{name: "anonymous https", url: "https://example.com/org/repo"},
		{name: "basic over https", url: "https://example.com/r", data: map[string]string{"username": "u", "password": "p"},
			check: func(t *testing.T, o *AuthOptions) {
				if o.Username != "u" || o.Password != "p" || o.Transport != HTTPS || o.Host != "example.com" {
					t.Fatalf("got %+v", *o)
				}
			}},
		{name: "basic over plain http is allowed", url: "http://example.com/r", data: map[string]string{"username": "u", "password": "p"}},
		{name: "bearer token", url: "https://example.com/r", data: map[string]string{"bearerToken": "t"},
			check: func(t *testing.T, o *AuthOptions) {
				if o.BearerToken != "t" {
					t.Fatal("bearer token not read")
				}
			}},
		{name: "ca.crt and mTLS", url: "https://example.com/r", data: map[string]string{"ca.crt": "CA", "tls.crt": "C", "tls.key": "K"},
			check: func(t *testing.T, o *AuthOptions) {
				if string(o.CACert) != "CA" || string(o.TLSCert) != "C" || string(o.TLSKey) != "K" {
					t.Fatalf("got %+v", *o)
				}
			}},
		{name: "legacy caFile", url: "https://example.com/r", data: map[string]string{"caFile": "CA"},
			check: func(t *testing.T, o *AuthOptions) {
				if string(o.CACert) != "CA" {
					t.Fatal("caFile not read")
				}
			}},
		{name: "ca.crt wins over caFile", url: "https://example.com/r", data: map[string]string{"caFile": "OLD", "ca.crt": "NEW"},
			check: func(t *testing.T, o *AuthOptions) {
				if string(o.CACert) != "NEW" {
					t.Fatal("ca.crt should win")
				}
			}},
		{name: "credentials in the URL", url: "https://u:p@example.com/r",
			check: func(t *testing.T, o *AuthOptions) {
				if o.Username != "u" || o.Password != "p" {
					t.Fatalf("got %+v", *o)
				}
			}},
		{name: "ssh", url: "ssh://git@example.com/org/repo", data: map[string]string{"identity": "KEY", "known_hosts": testKnownHosts},
			check: func(t *testing.T, o *AuthOptions) {
				if o.Username != "git" || o.Transport != SSH {
					t.Fatalf("got %+v", *o)
				}
			}},
		{name: "ssh user defaults to git", url: "ssh://example.com/r", data: map[string]string{"identity": "KEY", "known_hosts": testKnownHosts},
			check: func(t *testing.T, o *AuthOptions) {
				if o.Username != "git" {
					t.Fatalf("user = %q", o.Username)
				}
			}},
		{name: "ssh user from URL", url: "ssh://deploy@example.com/r", data: map[string]string{"identity": "KEY", "known_hosts": testKnownHosts, "username": "other"},
			check: func(t *testing.T, o *AuthOptions) {
				if o.Username != "deploy" {
					t.Fatalf("user = %q", o.Username)
				}
			}},
		{name: "identity on https", url: "https://example.com/r", data: map[string]string{"identity": "KEY"}, wantErr: "ssh:// URL"},
		{name: "password without username", url: "https://example.com/r", data: map[string]string{"password": "p"}, wantErr: "'password' requires 'username'"},
		{name: "tls.crt without tls.key", url: "https://example.com/r", data: map[string]string{"tls.crt": "C"}, wantErr: "must be set together"},
		{name: "ssh without identity", url: "ssh://git@example.com/r", data: map[string]string{"known_hosts": testKnownHosts}, wantErr: "'identity'"},
		{name: "ssh without secret", url: "ssh://git@example.com/r", wantErr: "'identity'"},
		{name: "ssh without known_hosts", url: "ssh://git@example.com/r", data: map[string]string{"identity": "KEY"}, wantErr: "'known_hosts' is required"},
		{name: "ssh with garbage known_hosts", url: "ssh://git@example.com/r", data: map[string]string{"identity": "KEY", "known_hosts": "example.com ssh-ed25519 !!!"}, wantErr: "known_hosts"},
		{name: "unsupported scheme", url: "file:///tmp/repo", wantErr: "unsupported URL scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var data map[string][]byte
			if tt.data != nil {
				data = map[string][]byte{}
				for k, v := range tt.data {
					data[k] = []byte(v)
				}
			}
			o, err := NewAuthOptions(mustURL(t, tt.url), data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "example.com") && strings.Contains(tt.url, "example.com") {
					t.Fatalf("error does not name the host: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}

func TestAuthOptionsStringRedacts(t *testing.T) {
	o, err := NewAuthOptions(mustURL(t, "https://example.com/r"), map[string][]byte{
		"username": []byte("alice"), "password": []byte("hunter2-secret"), "tls.crt": []byte("C"), "tls.key": []byte("PRIVATE-KEY-BYTES"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		out := fmt.Sprintf(format, o)
		if strings.Contains(out, "hunter2-secret") || strings.Contains(out, "PRIVATE-KEY-BYTES") {
			t.Errorf("%s leaks a secret: %s", format, out)
		}
		if !strings.Contains(out, "alice") {
			t.Errorf("%s lost the username: %s", format, out)
		}
	}
}

func TestNewProxyOptions(t *testing.T) {
	tests := []struct {
		data    map[string]string
		wantErr string
	}{
		{data: map[string]string{"address": "http://proxy:3128", "username": "u", "password": "p"}},
		{data: map[string]string{"address": "socks5://proxy:1080"}},
		{data: map[string]string{}, wantErr: "'address' is required"},
		{data: map[string]string{"address": "ftp://proxy"}, wantErr: "unsupported scheme"},
		{data: map[string]string{"address": "http://"}, wantErr: "no host"},
		{data: map[string]string{"address": "http://proxy", "password": "p"}, wantErr: "requires 'username'"},
	}
	for _, tt := range tests {
		data := map[string][]byte{}
		for k, v := range tt.data {
			data[k] = []byte(v)
		}
		p, err := NewProxyOptions(data)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want %q", tt.data, err, tt.wantErr)
			}
			continue
		}
		if err != nil || p.URL != tt.data["address"] || p.Username != tt.data["username"] || p.Password != tt.data["password"] {
			t.Errorf("%v: got %+v, %v", tt.data, p, err)
		}
	}
}
