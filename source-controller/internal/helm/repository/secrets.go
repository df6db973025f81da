package repository

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
)

// Keys read from the Secrets a HelmRepository references.
const (
	// UsernameKey and PasswordKey hold basic-auth credentials (spec.secretRef).
	UsernameKey = "username"
	PasswordKey = "password"

	// CACertKey, ClientCertKey and ClientKeyKey hold TLS material (spec.certSecretRef).
	CACertKey     = "ca.crt"
	ClientCertKey = "tls.crt"
	ClientKeyKey  = "tls.key"

	// LegacyCAKey, LegacyCertKey and LegacyKeyKey are the deprecated TLS keys older Flux versions
	// read from spec.secretRef; they are still honoured when spec.certSecretRef is not set.
	LegacyCAKey   = "caFile"
	LegacyCertKey = "certFile"
	LegacyKeyKey  = "keyFile"
)

// SecretData is the part of a Kubernetes Secret the option builders read: its name (for error
// messages) and its data. Values are never put into errors.
type SecretData struct {
	Name string
	Data map[string][]byte
}

// SecretError says what is wrong with a referenced Secret, naming the Secret and the key but
// never a value.
type SecretError struct {
	Secret string
	Key    string // empty when the problem is not about one key
	Reason string
}

func (e *SecretError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("invalid secret '%s': %s", e.Secret, e.Reason)
	}
	return fmt.Sprintf("invalid secret '%s': key '%s': %s", e.Secret, e.Key, e.Reason)
}

// BasicAuthFromSecret returns the username and password of s. Both must be set, or neither
// (then ok is false): half a pair is an error naming the missing key.
func BasicAuthFromSecret(s SecretData) (username, password string, ok bool, err error) {
	u, hasU := s.Data[UsernameKey]
	p, hasP := s.Data[PasswordKey]
	switch {
	case len(u) == 0 && len(p) == 0:
		return "", "", false, nil
	case len(u) == 0:
		reason := "is empty"
		if !hasU {
			reason = "is missing"
		}
		return "", "", false, &SecretError{Secret: s.Name, Key: UsernameKey, Reason: reason + " while '" + PasswordKey + "' is set"}
	case len(p) == 0:
		reason := "is empty"
		if !hasP {
			reason = "is missing"
		}
		return "", "", false, &SecretError{Secret: s.Name, Key: PasswordKey, Reason: reason + " while '" + UsernameKey + "' is set"}
	}
	return string(u), string(p), true, nil
}

// TLSConfigFromCertSecret builds a TLS client configuration from a spec.certSecretRef Secret:
// ca.crt adds a CA to the system roots, tls.crt with tls.key sets a client certificate (the
// deprecated caFile/certFile/keyFile are read when the standard keys are absent). A Secret
// with none of them, or half a key pair, is an error.
func TLSConfigFromCertSecret(s SecretData) (*tls.Config, error) {
	pick := func(key, legacy string) string {
		if _, ok := s.Data[key]; !ok {
			if _, ok := s.Data[legacy]; ok {
				return legacy
			}
		}
		return key
	}
	cfg, err := tlsConfigFromKeys(s, pick(CACertKey, LegacyCAKey), pick(ClientCertKey, LegacyCertKey), pick(ClientKeyKey, LegacyKeyKey))
	if err == nil && cfg == nil {
		err = &SecretError{Secret: s.Name, Reason: fmt.Sprintf("no TLS data: want '%s' and/or '%s' with '%s'", CACertKey, ClientCertKey, ClientKeyKey)}
	}
	return cfg, err
}

// TLSConfigFromAuthSecret builds a TLS client configuration from the deprecated caFile,
// certFile and keyFile keys of a spec.secretRef Secret. It returns nil when the Secret holds
// none of them; the standard TLS keys mean nothing in an auth Secret (as upstream).
func TLSConfigFromAuthSecret(s SecretData) (*tls.Config, error) {
	return tlsConfigFromKeys(s, LegacyCAKey, LegacyCertKey, LegacyKeyKey)
}

// tlsConfigFromKeys reads a CA and a client key pair from the given keys of s. It returns nil
// when none of the keys is present.
func tlsConfigFromKeys(s SecretData, caKey, certKey, keyKey string) (*tls.Config, error) {
	ca, cert, key := s.Data[caKey], s.Data[certKey], s.Data[keyKey]
	if ca == nil && cert == nil && key == nil {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != nil {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, &SecretError{Secret: s.Name, Key: caKey, Reason: "no valid PEM certificate found"}
		}
		cfg.RootCAs = pool
	}
	switch {
	case cert != nil && key != nil:
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			// The error from crypto/tls describes the PEM structure, never the key bytes.
			return nil, &SecretError{Secret: s.Name, Key: certKey + "/" + keyKey, Reason: "invalid client certificate or key: " + err.Error()}
		}
		cfg.Certificates = []tls.Certificate{pair}
	case cert != nil:
		return nil, &SecretError{Secret: s.Name, Key: certKey, Reason: fmt.Sprintf("is set without '%s'", keyKey)}
	case key != nil:
		return nil, &SecretError{Secret: s.Name, Key: keyKey, Reason: fmt.Sprintf("is set without '%s'", certKey)}
	}
	return cfg, nil
}
