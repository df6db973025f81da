package oci

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// selfSigned returns a certificate and its PKCS#8 key in PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func TestTLSConfigFromSecret(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t)
	otherCert, otherKey := selfSigned(t)
	const secret = "TOPSECRETKEYMATERIAL"
	badKey := []byte("-----BEGIN PRIVATE KEY-----\n" + secret + "\n-----END PRIVATE KEY-----\n")
	tests := []struct {
		name       string
		data       map[string][]byte
		wantCA     bool
		wantClient bool
		wantErr    string
	}{
		{name: "CA only", data: map[string][]byte{"ca.crt": cert}, wantCA: true},
		{name: "client pair only", data: map[string][]byte{"tls.crt": cert, "tls.key": key}, wantClient: true},
		{name: "all three", data: map[string][]byte{"ca.crt": otherCert, "tls.crt": cert, "tls.key": key}, wantCA: true, wantClient: true},
		{name: "legacy keys", data: map[string][]byte{"caFile": cert, "certFile": cert, "keyFile": key}, wantCA: true, wantClient: true},
		{name: "standard keys win", data: map[string][]byte{"ca.crt": cert, "caFile": []byte("junk")}, wantCA: true},
		{name: "nothing", data: map[string][]byte{"username": []byte("x")}, wantErr: "no TLS data"},
		{name: "CA not PEM", data: map[string][]byte{"ca.crt": []byte(secret)}, wantErr: "ca.crt: no valid PEM certificate"},
		{name: "cert without key", data: map[string][]byte{"tls.crt": cert}, wantErr: "tls.crt is set without tls.key"},
		{name: "key without cert", data: map[string][]byte{"tls.key": key}, wantErr: "tls.key is set without tls.crt"},
		{name: "mismatched pair", data: map[string][]byte{"tls.crt": cert, "tls.key": otherKey}, wantErr: "tls.crt/tls.key: invalid client certificate or key"},
		{name: "garbage key", data: map[string][]byte{"tls.crt": cert, "tls.key": badKey}, wantErr: "invalid client certificate or key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := TLSConfigFromSecret(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "PRIVATE KEY-----") {
					t.Fatalf("error leaks key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.RootCAs != nil) != tt.wantCA || (len(cfg.Certificates) == 1) != tt.wantClient {
				t.Fatalf("RootCAs set %v, client certs %d; want CA %v client %v", cfg.RootCAs != nil, len(cfg.Certificates), tt.wantCA, tt.wantClient)
			}
		})
	}
}
