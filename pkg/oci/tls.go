package oci

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
)

// Keys of a TLS Secret (spec.certSecretRef). The camel-case names are the deprecated keys
// older Flux versions documented; they are read when the standard keys are absent.
const (
	CACertKey     = "ca.crt"
	ClientCertKey = "tls.crt"
	ClientKeyKey  = "tls.key"

	legacyCAKey   = "caFile"
	legacyCertKey = "certFile"
	legacyKeyKey  = "keyFile"
)

// TLSConfigFromSecret builds a TLS client configuration from a Secret's data: ca.crt adds a
// certificate authority to the system roots, tls.crt with tls.key sets a client certificate.
// It fails when the Secret holds none of them, or only half of a key pair. Errors name keys,
// never their contents.
func TLSConfigFromSecret(data map[string][]byte) (*tls.Config, error) {
	get := func(key, legacy string) (string, []byte) {
		if v, ok := data[key]; ok {
			return key, v
		}
		if v, ok := data[legacy]; ok {
			return legacy, v
		}
		return key, nil
	}
	caKey, ca := get(CACertKey, legacyCAKey)
	certKey, cert := get(ClientCertKey, legacyCertKey)
	keyKey, key := get(ClientKeyKey, legacyKeyKey)
	if ca == nil && cert == nil && key == nil {
		return nil, fmt.Errorf("no TLS data: the Secret needs %s and/or %s with %s", CACertKey, ClientCertKey, ClientKeyKey)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != nil {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%s: no valid PEM certificate found", caKey)
		}
		cfg.RootCAs = pool
	}
	switch {
	case cert != nil && key != nil:
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: invalid client certificate or key: %w", certKey, keyKey, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case cert != nil:
		return nil, fmt.Errorf("%s is set without %s", certKey, ClientKeyKey)
	case key != nil:
		return nil, fmt.Errorf("%s is set without %s", keyKey, ClientCertKey)
	}
	return cfg, nil
}
