package bucket

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/internal/testing/s3server"
)

// secrets is a SecretGetter over fixed data.
func secrets(m map[string]map[string][]byte) SecretGetter {
	return func(_ context.Context, name string) (map[string][]byte, error) {
		d, ok := m[name]
		if !ok {
			return nil, fmt.Errorf("secrets \"%s\" not found", name)
		}
		return d, nil
	}
}

func bucketObject(spec sourcev1.BucketSpec) *sourcev1.Bucket {
	spec.Interval = metav1.Duration{Duration: time.Minute}
	return &sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "default"}, Spec: spec}
}

func TestGenericS3TLS(t *testing.T) {
	s := startS3(t, s3server.Options{TLS: true})
	seedS3(t, s, "secure", map[string]string{"a.yaml": "a"})
	clientCert, clientKey := s.ClientCertPEM()
	creds := map[string][]byte{"accesskey": []byte(s.AccessKey()), "secretkey": []byte(s.SecretKey())}

	tests := []struct {
		name     string
		tls      map[string][]byte // nil: no spec.certSecretRef
		insecure bool
		wantErr  string // "" for success; else a substring
		reason   string
	}{
		{name: "ca.crt", tls: map[string][]byte{"ca.crt": s.CAPEM()}},
		{name: "ca.crt with a client certificate", tls: map[string][]byte{"ca.crt": s.CAPEM(), "tls.crt": clientCert, "tls.key": clientKey}},
		{name: "system roots do not trust the test CA", wantErr: "certificate", reason: sourcev1.BucketOperationFailedReason},
		{name: "plain HTTP client against TLS", insecure: true, wantErr: "bucket 'secure'", reason: sourcev1.BucketOperationFailedReason},
		{name: "tls.crt without tls.key", tls: map[string][]byte{"ca.crt": s.CAPEM(), "tls.crt": clientCert}, wantErr: "tls.crt is set without tls.key", reason: sourcev1.AuthenticationFailedReason},
		{name: "garbage ca.crt", tls: map[string][]byte{"ca.crt": []byte("not a cert")}, wantErr: "ca.crt", reason: sourcev1.AuthenticationFailedReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := sourcev1.BucketSpec{
				BucketName: "secure", Endpoint: s.Endpoint(), Region: s.Region(), Insecure: tt.insecure,
				SecretRef: &meta.LocalObjectReference{Name: "creds"},
			}
			data := map[string]map[string][]byte{"creds": creds}
			if tt.tls != nil {
				spec.CertSecretRef = &meta.LocalObjectReference{Name: "tls"}
				data["tls"] = tt.tls
			}
			idx, err := indexOf(bucketObject(spec), secrets(data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if idx.Len() != 1 {
					t.Errorf("indexed %d objects", idx.Len())
				}
				return
			}
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ReasonOf(err) != tt.reason {
				t.Fatalf("err = %v (reason %s), want %q (%s)", err, ReasonOf(err), tt.wantErr, tt.reason)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), s.SecretKey()) {
				t.Errorf("error leaks key material: %v", err)
			}
		})
	}
}

// indexOf runs the reconciler's sequence ConfigFor, Open, Index.
func indexOf(obj *sourcev1.Bucket, get SecretGetter) (*Index, error) {
	cfg, err := ConfigFor(context.Background(), obj, get, nil)
	if err != nil {
		return nil, err
	}
	c, err := Open(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Index(context.Background())
}

// TestGenericS3Proxy sends the S3 traffic through an authenticating forward proxy on
// 127.0.0.1, configured by spec.proxySecretRef.
func TestGenericS3Proxy(t *testing.T) {
	s := startS3(t, s3server.Options{})
	seedS3(t, s, "proxied", map[string]string{"a.yaml": "a"})
	var proxied atomic.Int32
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL = r.In.URL // a forward proxy request carries the absolute target URL
			r.Out.Header.Del("Proxy-Authorization")
		},
	})
	defer proxy.Close()
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := parseProxyAuth(r)
		if !ok || user != "proxy-user" || pass != "proxy-pass-s3cr3t" {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "proxy auth required", http.StatusProxyAuthRequired)
			return
		}
		proxied.Add(1)
		proxy.Config.Handler.ServeHTTP(w, r)
	})
	authProxy := httptest.NewServer(auth)
	defer authProxy.Close()

	creds := map[string][]byte{"accesskey": []byte(s.AccessKey()), "secretkey": []byte(s.SecretKey())}
	spec := sourcev1.BucketSpec{
		BucketName: "proxied", Endpoint: s.Endpoint(), Region: s.Region(), Insecure: true,
		SecretRef:      &meta.LocalObjectReference{Name: "creds"},
		ProxySecretRef: &meta.LocalObjectReference{Name: "proxy"},
	}
	good := map[string][]byte{"address": []byte(authProxy.URL), "username": []byte("proxy-user"), "password": []byte("proxy-pass-s3cr3t")}
	idx, err := indexOf(bucketObject(spec), secrets(map[string]map[string][]byte{"creds": creds, "proxy": good}))
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != 1 || proxied.Load() == 0 {
		t.Fatalf("indexed %d objects with %d proxied requests", idx.Len(), proxied.Load())
	}

	bad := map[string][]byte{"address": []byte(authProxy.URL), "username": []byte("proxy-user"), "password": []byte("wrong-pass-s3cr3t")}
	_, err = indexOf(bucketObject(spec), secrets(map[string]map[string][]byte{"creds": creds, "proxy": bad}))
	if err == nil {
		t.Fatal("wrong proxy password accepted")
	}
	if strings.Contains(err.Error(), "wrong-pass-s3cr3t") {
		t.Errorf("error leaks the proxy password: %v", err)
	}

	noAddr := map[string][]byte{"username": []byte("u")}
	_, err = indexOf(bucketObject(spec), secrets(map[string]map[string][]byte{"creds": creds, "proxy": noAddr}))
	if err == nil || ReasonOf(err) != sourcev1.AuthenticationFailedReason || !strings.Contains(err.Error(), "'address'") {
		t.Errorf("proxy Secret without address: %v", err)
	}
}

func parseProxyAuth(r *http.Request) (user, pass string, ok bool) {
	h := r.Header.Get("Proxy-Authorization")
	if h == "" {
		return "", "", false
	}
	req := &http.Request{Header: http.Header{"Authorization": {h}}}
	return req.BasicAuth()
}

// TestAWSProviderEnvironmentCredentials: the aws provider without a Secret uses the AWS
// credential chain; the environment variables come first.
func TestAWSProviderEnvironmentCredentials(t *testing.T) {
	s := startS3(t, s3server.Options{})
	seedS3(t, s, "aws-env", map[string]string{"a.yaml": "a"})
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey())
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey())
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	spec := sourcev1.BucketSpec{Provider: sourcev1.BucketProviderAmazon, BucketName: "aws-env", Endpoint: s.Endpoint(), Region: s.Region(), Insecure: true}
	idx, err := indexOf(bucketObject(spec), secrets(nil))
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != 1 {
		t.Errorf("indexed %d objects", idx.Len())
	}

	// A Secret takes precedence over the environment.
	spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
	_, err = indexOf(bucketObject(spec), secrets(map[string]map[string][]byte{
		"creds": {"accesskey": []byte(s.AccessKey()), "secretkey": []byte("wrong-secret-key")},
	}))
	if err == nil {
		t.Error("a wrong Secret was ignored in favour of the environment")
	}
}

// TestGenericS3LDAPSTS exchanges LDAP credentials for temporary S3 credentials at an STS that
// speaks MinIO's AssumeRoleWithLDAPIdentity API (versitygw has no STS), then reads the bucket
// on versitygw with them.
func TestGenericS3LDAPSTS(t *testing.T) {
	s := startS3(t, s3server.Options{})
	seedS3(t, s, "ldap", map[string]string{"a.yaml": "a"})
	var calls atomic.Int32
	sts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = r.ParseForm()
		if r.Method != http.MethodPost || r.Form.Get("Action") != "AssumeRoleWithLDAPIdentity" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if r.Form.Get("LDAPUsername") != "flux" || r.Form.Get("LDAPPassword") != "ldap-s3cr3t" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Code>AccessDenied</Code><Message>LDAP login failed</Message></Error></ErrorResponse>`)
			return
		}
		fmt.Fprintf(w, `<AssumeRoleWithLDAPIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleWithLDAPIdentityResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>
<Expiration>%s</Expiration><SessionToken></SessionToken></Credentials></AssumeRoleWithLDAPIdentityResult>
</AssumeRoleWithLDAPIdentityResponse>`, s.AccessKey(), s.SecretKey(), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	defer sts.Close()
	stsCA := pemCert(sts.Certificate().Raw)

	spec := sourcev1.BucketSpec{
		BucketName: "ldap", Endpoint: s.Endpoint(), Region: s.Region(), Insecure: true,
		STS: &sourcev1.BucketSTSSpec{
			Provider: sourcev1.STSProviderLDAP, Endpoint: sts.URL,
			SecretRef:     &meta.LocalObjectReference{Name: "ldap"},
			CertSecretRef: &meta.LocalObjectReference{Name: "sts-tls"},
		},
	}
	data := map[string]map[string][]byte{
		"ldap":    {"username": []byte("flux"), "password": []byte("ldap-s3cr3t")},
		"sts-tls": {"ca.crt": stsCA},
	}
	idx, err := indexOf(bucketObject(spec), secrets(data))
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != 1 || calls.Load() == 0 {
		t.Fatalf("indexed %d objects after %d STS calls", idx.Len(), calls.Load())
	}

	data["ldap"] = map[string][]byte{"username": []byte("flux"), "password": []byte("wrong-ldap-pass")}
	_, err = indexOf(bucketObject(spec), secrets(data))
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "bucket 'ldap'") {
		t.Fatalf("wrong LDAP password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-ldap-pass") {
		t.Errorf("error leaks the LDAP password: %v", err)
	}
}
