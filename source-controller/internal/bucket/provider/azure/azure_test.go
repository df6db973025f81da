package azure

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		endpoint          string
		insecure          bool
		wantURL, wantAcct string
		wantErr           string
	}{
		{endpoint: "https://acme.blob.core.windows.net", wantURL: "https://acme.blob.core.windows.net", wantAcct: "acme"},
		{endpoint: "acme.blob.core.windows.net", wantURL: "https://acme.blob.core.windows.net", wantAcct: "acme"},
		{endpoint: "http://127.0.0.1:10000/devstoreaccount1", insecure: true, wantURL: "http://127.0.0.1:10000/devstoreaccount1", wantAcct: "devstoreaccount1"},
		{endpoint: "localhost:10000/dev", insecure: true, wantURL: "http://localhost:10000/dev", wantAcct: "dev"},
		{endpoint: "http://acme.blob.core.windows.net", wantErr: "spec.insecure"},
		{endpoint: "http://127.0.0.1:10000", insecure: true, wantErr: "no storage account"},
		{endpoint: "https://user:pass@acme.blob.core.windows.net", wantErr: "credentials in the URL"},
		{endpoint: "ftp://acme.blob.core.windows.net", wantErr: "unsupported scheme"},
	}
	for _, tt := range tests {
		u, acct, err := parseEndpoint(tt.endpoint, tt.insecure)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.endpoint, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pass@") {
				t.Errorf("%s: error leaks the password: %v", tt.endpoint, err)
			}
			continue
		}
		if err != nil || u != tt.wantURL || acct != tt.wantAcct {
			t.Errorf("%s: (%q, %q, %v), want (%q, %q)", tt.endpoint, u, acct, err, tt.wantURL, tt.wantAcct)
		}
	}
}

func TestWithSAS(t *testing.T) {
	got, err := withSAS("https://acme.blob.core.windows.net/?sv=old&x=keep", "?sv=2022-11-02&sig=abc%2Bdef&sp=rl")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	if q.Get("sv") != "2022-11-02" || q.Get("x") != "keep" || q.Get("sig") != "abc+def" || q.Get("sp") != "rl" {
		t.Errorf("merged query %v: the token's values win, the endpoint's others stay", q)
	}
	if _, err := withSAS("https://acme.blob.core.windows.net/", "%zz"); err == nil || strings.Contains(err.Error(), "%zz") {
		t.Errorf("bad token: %v", err)
	}
}

// TestCredentialFor checks which credential each documented Secret shape selects. Token
// credentials are only built here: getting a token needs Microsoft Entra ID.
func TestCredentialFor(t *testing.T) {
	certPEM := selfSignedPEM(t)
	tests := []struct {
		name    string
		data    map[string][]byte
		want    string // token type, "sharedKey" or "sas"
		wantErr string
	}{
		{name: "service principal secret", data: map[string][]byte{"tenantId": []byte("t"), "clientId": []byte("c"), "clientSecret": []byte("s")}, want: "*azidentity.ClientSecretCredential"},
		{name: "service principal certificate", data: map[string][]byte{"tenantId": []byte("t"), "clientId": []byte("c"), "clientCertificate": certPEM, "clientCertificateSendChain": []byte("true")}, want: "*azidentity.ClientCertificateCredential"},
		{name: "bad certificate", data: map[string][]byte{"tenantId": []byte("t"), "clientId": []byte("c"), "clientCertificate": []byte("nope")}, wantErr: "'clientCertificate'"},
		{name: "managed identity", data: map[string][]byte{"clientId": []byte("c")}, want: "*azidentity.ManagedIdentityCredential"},
		{name: "account key", data: map[string][]byte{"accountKey": []byte("a2V5")}, want: "sharedKey"},
		{name: "bad account key", data: map[string][]byte{"accountKey": []byte("not base64!")}, wantErr: "'accountKey'"},
		{name: "sas", data: map[string][]byte{"sasKey": []byte("?sv=1&sig=x")}, want: "sas"},
		{name: "authority host with service principal", data: map[string][]byte{"tenantId": []byte("t"), "clientId": []byte("c"), "clientSecret": []byte("s"), "authorityHost": []byte("https://login.microsoftonline.us/")}, want: "*azidentity.ClientSecretCredential"},
		{name: "nothing usable", data: map[string][]byte{"tenantId": []byte("t")}, wantErr: "needs one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := credentialFor(tt.data, "acct", azcore.ClientOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got string
			switch {
			case c.sas != "":
				got = "sas"
			case c.sharedKey != nil:
				got = "sharedKey"
			case c.token != nil:
				got = typeName(c.token)
			}
			if got != tt.want {
				t.Errorf("credential %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDefaultChainWithoutSecret(t *testing.T) {
	t.Setenv("AZURE_TENANT_ID", "t")
	t.Setenv("AZURE_CLIENT_ID", "c")
	t.Setenv("AZURE_CLIENT_SECRET", "s")
	c, err := credentialFor(nil, "acct", azcore.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.token.(*azidentity.ChainedTokenCredential); !ok {
		t.Errorf("credential %T, want the chain", c.token)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *azidentity.ClientSecretCredential:
		return "*azidentity.ClientSecretCredential"
	case *azidentity.ClientCertificateCredential:
		return "*azidentity.ClientCertificateCredential"
	case *azidentity.ManagedIdentityCredential:
		return "*azidentity.ManagedIdentityCredential"
	default:
		return "other"
	}
}

// selfSignedPEM is a certificate and its key in one PEM bundle, as clientCertificate holds.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048) // Entra ID takes RSA keys only
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
}
