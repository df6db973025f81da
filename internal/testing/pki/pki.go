// Package pki generates the throwaway certificate authorities the test servers use: one CA
// per server, with a server certificate for 127.0.0.1, ::1 and localhost and a client
// certificate, all made in-process (ECDSA P-256, valid for a day) so tests need no openssl,
// share no key material and have no fixtures that expire.
//
// Every TLS test peer (gitserver, githubapi, registry, helmrepo, s3server) gets its
// certificates here.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs is a CA with one server and one client certificate it signed, PEM encoded (private
// keys as PKCS#8).
type Certs struct {
	CAPEM         []byte
	ServerCertPEM []byte
	ServerKeyPEM  []byte
	ClientCertPEM []byte
	ClientKeyPEM  []byte

	pool *x509.CertPool
}

// New generates a CA named name (its subject common name, which shows in TLS errors) and the
// certificates it signs.
func New(name string) (*Certs, error) { return NewForHosts(name) }

// NewForHosts is New with a server certificate also valid for dnsNames: a test server that
// stands in for a named host (a cloud registry, an identity endpoint).
func NewForHosts(name string, dnsNames ...string) (*Certs, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	// Back-dated a little so a clock skewed by seconds still accepts them.
	now := time.Now().Add(-time.Minute)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now,
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create test CA %s: %w", name, err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	c := &Certs{CAPEM: pemBlock("CERTIFICATE", caDER), pool: x509.NewCertPool()}
	c.pool.AddCert(ca)

	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, server bool) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now,
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if server {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
			tmpl.DNSNames = append([]string{"localhost"}, dnsNames...)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, fmt.Errorf("create %s certificate: %w", cn, err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
	}
	if c.ServerCertPEM, c.ServerKeyPEM, err = leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, true); err != nil {
		return nil, err
	}
	if c.ClientCertPEM, c.ClientKeyPEM, err = leaf(3, name+" client", x509.ExtKeyUsageClientAuth, false); err != nil {
		return nil, err
	}
	return c, nil
}

// ServerConfig serves the server certificate; with requireClientCert it also demands a client
// certificate signed by the CA.
func (c *Certs) ServerConfig(requireClientCert bool) (*tls.Config, error) {
	pair, err := tls.X509KeyPair(c.ServerCertPEM, c.ServerKeyPEM)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = c.pool
	}
	return cfg, nil
}

// ClientConfig trusts the CA and presents the client certificate.
func (c *Certs) ClientConfig() *tls.Config {
	cfg := &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}
	if pair, err := tls.X509KeyPair(c.ClientCertPEM, c.ClientKeyPEM); err == nil {
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// Files are the paths WriteServerFiles wrote.
type Files struct {
	Cert, Key, CA string
}

// WriteServerFiles writes the server certificate, its key and the CA certificate into dir
// (tls.crt, tls.key, ca.crt; mode 0600), for servers configured by file (versitygw, the
// distribution registry).
func (c *Certs) WriteServerFiles(dir string) (Files, error) {
	f := Files{Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key"), CA: filepath.Join(dir, "ca.crt")}
	for p, b := range map[string][]byte{f.Cert: c.ServerCertPEM, f.Key: c.ServerKeyPEM, f.CA: c.CAPEM} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// NewForTest is New for tests that only need the PEM material (a client-side TLS Secret, a
// parser): it fails the test on error.
func NewForTest(t testing.TB) *Certs {
	t.Helper()
	c, err := New("gotk test CA " + t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
