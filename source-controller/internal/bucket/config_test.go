package bucket

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/pkg/auth/cloud"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket/provider"
)

func TestConfigFor(t *testing.T) {
	ref := func(n string) *meta.LocalObjectReference { return &meta.LocalObjectReference{Name: n} }
	data := map[string]map[string][]byte{
		"creds": {"accesskey": []byte("ak"), "secretkey": []byte("sk")},
		"ldap":  {"username": []byte("u"), "password": []byte("p")},
		"proxy": {"address": []byte("http://proxy.example:3128"), "username": []byte("pu"), "password": []byte("pp-secret")},
		"empty": {},
	}
	base := sourcev1.BucketSpec{BucketName: "b", Endpoint: "s3.example.com"}
	tests := []struct {
		name    string
		mutate  func(*sourcev1.BucketSpec)
		reason  string // "" = success
		stalled bool
		errText string
		check   func(*testing.T, Config)
	}{{
		name: "defaults",
		check: func(t *testing.T, c Config) {
			if c.Provider != sourcev1.BucketProviderGeneric || c.Options.Timeout != 60*time.Second || c.Options.Secret != nil {
				t.Errorf("config %+v", c)
			}
		},
	}, {
		name: "secret, proxy and spec fields",
		mutate: func(s *sourcev1.BucketSpec) {
			s.SecretRef, s.ProxySecretRef, s.Prefix, s.Region = ref("creds"), ref("proxy"), "p/", "eu"
		},
		check: func(t *testing.T, c Config) {
			if string(c.Options.Secret["secretkey"]) != "sk" || c.Prefix != "p/" || c.Options.Region != "eu" {
				t.Errorf("config %+v", c)
			}
			if c.Options.Proxy == nil || c.Options.Proxy.Host != "proxy.example:3128" || c.Options.Proxy.User.Username() != "pu" {
				t.Errorf("proxy %v", c.Options.Proxy)
			}
			if !strings.Contains(strings.Join(c.Options.Secrets(), ","), "pp-secret") {
				t.Error("the proxy password is not among the values scrubbed from errors")
			}
		},
	}, {
		name: "ldap STS",
		mutate: func(s *sourcev1.BucketSpec) {
			s.STS = &sourcev1.BucketSTSSpec{Provider: "ldap", Endpoint: "https://sts.example", SecretRef: ref("ldap")}
		},
		check: func(t *testing.T, c Config) {
			if c.Options.STS == nil || string(c.Options.STS.Secret["password"]) != "p" {
				t.Errorf("sts %+v", c.Options.STS)
			}
		},
	}, {
		name:    "missing secret is retried",
		mutate:  func(s *sourcev1.BucketSpec) { s.SecretRef = ref("nope") },
		reason:  sourcev1.AuthenticationFailedReason,
		errText: "reading the Secret 'nope' of spec.secretRef",
	}, {
		name:    "TLS secret without TLS data",
		mutate:  func(s *sourcev1.BucketSpec) { s.CertSecretRef = ref("empty") },
		reason:  sourcev1.AuthenticationFailedReason,
		errText: "invalid TLS Secret 'empty'",
	}, {
		name:    "certSecretRef with aws",
		mutate:  func(s *sourcev1.BucketSpec) { s.Provider, s.CertSecretRef = "aws", ref("x") },
		reason:  sourcev1.InvalidProviderConfigurationReason,
		stalled: true,
		errText: "only supported with the 'generic' provider",
	}, {
		name:    "serviceAccountName",
		mutate:  func(s *sourcev1.BucketSpec) { s.Provider, s.ServiceAccountName = "gcp", "sa" },
		reason:  meta.FeatureGateDisabledReason,
		stalled: true,
		errText: "enable the ObjectLevelWorkloadIdentity feature gate",
	}, {
		name:    "serviceAccountName with generic",
		mutate:  func(s *sourcev1.BucketSpec) { s.ServiceAccountName = "sa" },
		reason:  sourcev1.InvalidProviderConfigurationReason,
		stalled: true,
		errText: "spec.serviceAccountName is not supported for the 'generic' provider",
	}, {
		name: "serviceAccountName with secretRef",
		mutate: func(s *sourcev1.BucketSpec) {
			s.Provider, s.ServiceAccountName, s.SecretRef = "aws", "sa", ref("creds")
		},
		reason:  sourcev1.InvalidProviderConfigurationReason,
		stalled: true,
		errText: "cannot set both spec.secretRef and spec.serviceAccountName",
	}, {
		name: "aws STS with generic",
		mutate: func(s *sourcev1.BucketSpec) {
			s.STS = &sourcev1.BucketSTSSpec{Provider: "aws", Endpoint: "https://sts.amazonaws.com"}
		},
		reason:  sourcev1.InvalidSTSConfigurationReason,
		stalled: true,
		errText: "only supports the 'ldap' STS provider",
	}, {
		name: "aws STS with a secret",
		mutate: func(s *sourcev1.BucketSpec) {
			s.Provider = "aws"
			s.STS = &sourcev1.BucketSTSSpec{Provider: "aws", Endpoint: "https://sts.amazonaws.com", SecretRef: ref("ldap")}
		},
		reason:  sourcev1.InvalidSTSConfigurationReason,
		stalled: true,
	}, {
		name: "STS with gcp",
		mutate: func(s *sourcev1.BucketSpec) {
			s.Provider, s.STS = "gcp", &sourcev1.BucketSTSSpec{Provider: "ldap", Endpoint: "https://x"}
		},
		reason:  sourcev1.InvalidSTSConfigurationReason,
		stalled: true,
	}, {
		name: "STS endpoint not a URL",
		mutate: func(s *sourcev1.BucketSpec) {
			s.STS = &sourcev1.BucketSTSSpec{Provider: "ldap", Endpoint: "ldap.example"}
		},
		reason:  sourcev1.InvalidSTSConfigurationReason,
		stalled: true,
	}, {
		name:    "unknown provider",
		mutate:  func(s *sourcev1.BucketSpec) { s.Provider = "oracle" },
		reason:  sourcev1.InvalidProviderConfigurationReason,
		stalled: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := base
			if tt.mutate != nil {
				tt.mutate(&spec)
			}
			obj := &sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}, Spec: spec}
			cfg, err := ConfigFor(context.Background(), obj, secrets(data), nil)
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.check != nil {
					tt.check(t, cfg)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if ReasonOf(err) != tt.reason || IsStalled(err) != tt.stalled || !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("err %q (reason %s, stalled %v), want %q (%s, %v)", err, ReasonOf(err), IsStalled(err), tt.errText, tt.reason, tt.stalled)
			}
			if !strings.HasPrefix(err.Error(), "bucket 'b' at s3.example.com: ") {
				t.Errorf("error does not start with the bucket and endpoint: %q", err)
			}
		})
	}
}

// leakyProvider fails every call with a message quoting a credential, as some services and
// libraries do (signature mismatch messages, URLs with tokens).
type leakyProvider struct{ msg string }

func (p leakyProvider) BucketExists(context.Context) (bool, error) { return false, errors.New(p.msg) }
func (p leakyProvider) List(context.Context, string, func(provider.Object) error) error {
	return errors.New(p.msg)
}
func (p leakyProvider) Download(context.Context, string, io.Writer) error { return errors.New(p.msg) }
func (p leakyProvider) Close()                                            {}

func TestErrorsAreScrubbed(t *testing.T) {
	cfg := Config{Provider: "generic", Options: provider.Options{
		Bucket: "b", Endpoint: "e",
		Secret: map[string][]byte{"accesskey": []byte("AKIAEXAMPLE"), "secretkey": []byte("wJalrXUtnFEMI")},
	}}
	c := NewClient(cfg, leakyProvider{msg: "signature for AKIAEXAMPLE with wJalrXUtnFEMI does not match"})
	_, err := c.Index(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	if got, want := err.Error(), "bucket 'b' at e: checking that the bucket exists: signature for *** with *** does not match"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	err = c.Download(context.Background(), NewIndex(Object{Key: "k"}), t.TempDir(), DownloadOptions{})
	if err == nil || strings.Contains(err.Error(), "wJalrXUtnFEMI") {
		t.Errorf("download error %v", err)
	}
}

func TestEndpointCredentialsNeverInMessages(t *testing.T) {
	for _, provider := range []string{"generic", "aws", "gcp", "azure"} {
		spec := sourcev1.BucketSpec{Provider: provider, BucketName: "b", Endpoint: "https://user:hunter2@storage.example:9000/x"}
		obj := &sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Spec: spec}
		cfg, err := ConfigFor(context.Background(), obj, secrets(nil), nil)
		if err == nil {
			_, err = Open(context.Background(), cfg)
		}
		if err == nil {
			t.Errorf("%s: endpoint with credentials accepted", provider)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "***@storage.example:9000") {
			t.Errorf("%s: %v", provider, err)
		}
	}
}

// TestConfigForServiceAccount: which identity a Bucket with a cloud provider gets. With the
// ObjectLevelWorkloadIdentity gate, spec.serviceAccountName or else --default-service-account
// (never over a spec.secretRef, never for 'generic'); without it the default is ignored and
// the controller's own identity (no Identity) is used.
func TestConfigForServiceAccount(t *testing.T) {
	gateOn := &cloud.Logins{ObjectLevel: true, DefaultServiceAccount: "tenant-default"}
	gateOff := &cloud.Logins{DefaultServiceAccount: "tenant-default"}
	for _, tc := range []struct {
		name         string
		provider, sa string
		secret       bool
		ids          *cloud.Logins
		identity     bool
	}{
		{name: "object's own, aws", provider: "aws", sa: "team", ids: gateOn, identity: true},
		{name: "object's own, azure", provider: "azure", sa: "team", ids: gateOn, identity: true},
		{name: "default, gcp", provider: "gcp", ids: gateOn, identity: true},
		{name: "default not over a Secret", provider: "aws", secret: true, ids: gateOn},
		{name: "default not for generic", provider: "generic", ids: gateOn},
		{name: "default ignored with the gate off", provider: "gcp", ids: gateOff},
		{name: "nil Logins is the gate off", provider: "azure", ids: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sourcev1.BucketSpec{Provider: tc.provider, BucketName: "b", Endpoint: "storage.example", ServiceAccountName: tc.sa}
			data := map[string]map[string][]byte{}
			if tc.secret {
				spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
				data["creds"] = map[string][]byte{"accesskey": []byte("a"), "secretkey": []byte("b")}
			}
			obj := &sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b"}, Spec: spec}
			cfg, err := ConfigFor(context.Background(), obj, secrets(data), tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Options.Identity != nil; got != tc.identity {
				t.Fatalf("service account identity = %v, want %v", got, tc.identity)
			}
			if id := cfg.Options.Identity; id != nil {
				set := map[string]bool{"aws": id.AWS != nil, "azure": id.Azure != nil, "gcp": id.GCP != nil}
				for p, ok := range set {
					if ok != (p == tc.provider) {
						t.Errorf("identity for %s set = %v with provider %s", p, ok, tc.provider)
					}
				}
			}
		})
	}
}
