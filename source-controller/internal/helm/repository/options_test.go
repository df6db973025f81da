package repository

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"

	"gotk.dev/internal/testing/pki"
)

func TestOptionsFromSpec(t *testing.T) {
	certs := pki.NewForTest(t)
	const secretPassword = "s3cr3t-pa55"
	type want struct {
		err               string // substring of the error; empty for success
		user              string
		tls, clientCert   bool
		tlsFromAuthSecret bool
		timeout           time.Duration
	}
	cases := []struct {
		name       string
		spec       sourcev1.HelmRepositorySpec
		auth, cert *SecretData
		want       want
	}{
		{
			name: "anonymous",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			want: want{timeout: DefaultTimeout},
		},
		{
			name: "spec timeout",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com", Timeout: &metav1.Duration{Duration: 5 * time.Second}},
			want: want{timeout: 5 * time.Second},
		},
		{
			name: "basic auth",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			auth: &SecretData{Name: "creds", Data: map[string][]byte{"username": []byte("bob"), "password": []byte(secretPassword)}},
			want: want{user: "bob", timeout: DefaultTimeout},
		},
		{
			name: "username without password",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			auth: &SecretData{Name: "creds", Data: map[string][]byte{"username": []byte("bob")}},
			want: want{err: "invalid secret 'creds': key 'password': is missing while 'username' is set"},
		},
		{
			name: "password without username",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			auth: &SecretData{Name: "creds", Data: map[string][]byte{"username": {}, "password": []byte(secretPassword)}},
			want: want{err: "invalid secret 'creds': key 'username': is empty while 'password' is set"},
		},
		{
			name: "cert secret with CA and client pair",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			cert: &SecretData{Name: "tls", Data: map[string][]byte{"ca.crt": certs.CAPEM, "tls.crt": certs.ClientCertPEM, "tls.key": certs.ClientKeyPEM}},
			want: want{tls: true, clientCert: true, timeout: DefaultTimeout},
		},
		{
			name: "cert secret with CA only",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			cert: &SecretData{Name: "tls", Data: map[string][]byte{"ca.crt": certs.CAPEM}},
			want: want{tls: true, timeout: DefaultTimeout},
		},
		{
			name: "cert secret with tls.crt but no tls.key",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			cert: &SecretData{Name: "tls", Data: map[string][]byte{"tls.crt": certs.ClientCertPEM}},
			want: want{err: "invalid secret 'tls': key 'tls.crt': is set without 'tls.key'"},
		},
		{
			name: "cert secret with a bad CA",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			cert: &SecretData{Name: "tls", Data: map[string][]byte{"ca.crt": []byte("not a certificate")}},
			want: want{err: "invalid secret 'tls': key 'ca.crt': no valid PEM certificate found"},
		},
		{
			name: "cert secret with mismatched key",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			cert: &SecretData{Name: "tls", Data: map[string][]byte{"tls.crt": certs.ClientCertPEM, "tls.key": certs.ServerKeyPEM}},
			want: want{err: "invalid secret 'tls': key 'tls.crt/tls.key': invalid client certificate or key"},
		},
		{
			name: "empty cert secret",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			cert: &SecretData{Name: "tls", Data: map[string][]byte{"other": []byte("x")}},
			want: want{err: "invalid secret 'tls': no TLS data"},
		},
		{
			name: "deprecated TLS keys in the auth secret",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			auth: &SecretData{Name: "creds", Data: map[string][]byte{"caFile": certs.CAPEM, "certFile": certs.ClientCertPEM, "keyFile": certs.ClientKeyPEM}},
			want: want{tls: true, clientCert: true, tlsFromAuthSecret: true, timeout: DefaultTimeout},
		},
		{
			name: "deprecated keyFile without certFile",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			auth: &SecretData{Name: "creds", Data: map[string][]byte{"keyFile": certs.ClientKeyPEM}},
			want: want{err: "invalid secret 'creds': key 'keyFile': is set without 'certFile'"},
		},
		{
			name: "cert secret wins over deprecated keys",
			spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"},
			auth: &SecretData{Name: "creds", Data: map[string][]byte{"caFile": []byte("garbage that is never read")}},
			cert: &SecretData{Name: "tls", Data: map[string][]byte{"ca.crt": certs.CAPEM}},
			want: want{tls: true, timeout: DefaultTimeout},
		},
		{
			name: "credentials in the URL",
			spec: sourcev1.HelmRepositorySpec{URL: "https://bob:" + secretPassword + "@charts.example.com"},
			want: want{err: "credentials in the URL are not supported"},
		},
		{
			name: "unsupported scheme",
			spec: sourcev1.HelmRepositorySpec{URL: "ftp://charts.example.com"},
			want: want{err: `scheme "ftp" is not supported`},
		},
		{
			name: "oci URL on a default repository",
			spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/charts"},
			want: want{err: "an oci:// URL needs spec.type 'oci'"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := OptionsFromSpec(&tc.spec, tc.auth, tc.cert, helm.Limits{})
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.want.err)
				}
				if strings.Contains(err.Error(), secretPassword) {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Username != tc.want.user {
				t.Errorf("username = %q, want %q", opts.Username, tc.want.user)
			}
			if (opts.TLSConfig != nil) != tc.want.tls {
				t.Errorf("TLS config set = %v, want %v", opts.TLSConfig != nil, tc.want.tls)
			}
			if opts.TLSConfig != nil && (len(opts.TLSConfig.Certificates) == 1) != tc.want.clientCert {
				t.Errorf("client certificate set = %v, want %v", len(opts.TLSConfig.Certificates) == 1, tc.want.clientCert)
			}
			if opts.TLSFromAuthSecret != tc.want.tlsFromAuthSecret {
				t.Errorf("TLSFromAuthSecret = %v, want %v", opts.TLSFromAuthSecret, tc.want.tlsFromAuthSecret)
			}
			if opts.Timeout != tc.want.timeout {
				t.Errorf("timeout = %v, want %v", opts.Timeout, tc.want.timeout)
			}
		})
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"https://charts.example.com":  "https://charts.example.com/",
		"https://charts.example.com/": "https://charts.example.com/",
		"https://example.com/a//":     "https://example.com/a/",
		"oci://ghcr.io/org/charts/":   "oci://ghcr.io/org/charts",
		"oci://ghcr.io/org/charts":    "oci://ghcr.io/org/charts",
	} {
		if got := NormalizeURL(in); got != want {
			t.Errorf("NormalizeURL(%q) = %q, want %q", in, got, want)
		}
	}
}
