package testsign

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// Sigstore is a private Sigstore: a Fulcio CA, a Rekor log and a timestamp authority, all in
// memory (sigstore-go's VirtualSigstore).
type Sigstore struct {
	ca *ca.VirtualSigstore
	// TrustedRoot is its trusted_root.json, for spec.verify.trustedRootSecretRef.
	TrustedRoot []byte
}

// NewSigstore starts a private Sigstore.
func NewSigstore(t testing.TB) *Sigstore {
	t.Helper()
	s, err := StartSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// StartSigstore starts a private Sigstore outside a test (a suite's TestMain).
func StartSigstore() (*Sigstore, error) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		return nil, err
	}
	// The root lists the log under its real ID (the SHA-256 of its key), as a
	// trusted_root.json does.
	logs := map[string]*root.TransparencyLog{}
	for id, l := range vs.RekorLogs() {
		raw, err := hex.DecodeString(id)
		if err != nil {
			return nil, err
		}
		cp := *l
		cp.ID = raw
		cp.ValidityPeriodStart = time.Now().Add(-24 * time.Hour)
		cp.ValidityPeriodEnd = time.Time{}
		logs[id] = &cp
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), map[string]*root.TransparencyLog{},
		vs.TimestampingAuthorities(), logs)
	if err != nil {
		return nil, err
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &Sigstore{ca: vs, TrustedRoot: data}, nil
}

// WriteCosignEnv writes the Fulcio CA certificates and the Rekor log's public key to dir, as
// an air-gapped cosign user configures a private Sigstore, and returns the environment
// (SIGSTORE_ROOT_FILE, SIGSTORE_REKOR_PUBLIC_KEY) naming them.
func (s *Sigstore) WriteCosignEnv(dir string) (map[string]string, error) {
	fulcio := s.ca.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	certs, err := cryptoutils.MarshalCertificatesToPEM(append([]*x509.Certificate{fulcio.Root}, fulcio.Intermediates...))
	if err != nil {
		return nil, err
	}
	var rekorKey []byte
	for _, l := range s.ca.RekorLogs() {
		if rekorKey, err = cryptoutils.MarshalPublicKeyToPEM(l.PublicKey); err != nil {
			return nil, err
		}
	}
	env := map[string]string{"SIGSTORE_ROOT_FILE": filepath.Join(dir, "fulcio.pem"), "SIGSTORE_REKOR_PUBLIC_KEY": filepath.Join(dir, "rekor.pub")}
	if err := os.WriteFile(env["SIGSTORE_ROOT_FILE"], certs, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(env["SIGSTORE_REKOR_PUBLIC_KEY"], rekorKey, 0o600); err != nil {
		return nil, err
	}
	return env, nil
}

// KeylessOptions shape one keyless signature.
type KeylessOptions struct {
	// Identity and Issuer go into the Fulcio certificate (email SAN, OIDC issuer).
	Identity, Issuer string
	// LoggedAt is when Rekor logged the signature (default: now). The certificate is valid
	// for ten minutes from now: a later time makes the signature outlive its certificate.
	LoggedAt time.Time
}

// SignLegacy signs digest in repo keyless and appends the signature with its certificate,
// chain and Rekor bundle to the `.sig` tag, as `cosign sign` (cosign 2) does.
func (s *Sigstore) SignLegacy(t testing.TB, repo name.Repository, digest string, o KeylessOptions, opts ...remote.Option) {
	t.Helper()
	cert, key, err := s.ca.GenerateLeafCert(o.Identity, o.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	payload := Payload(repo, digest)
	sum := sha256.Sum256(payload)
	sig, err := key.(crypto.Signer).Sign(nil, sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := cryptoutils.MarshalCertificateToPEM(cert)
	if err != nil {
		t.Fatal(err)
	}
	chainPEM, err := cryptoutils.MarshalCertificatesToPEM(append([]*x509.Certificate(nil), s.ca.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority).Intermediates...))
	if err != nil {
		t.Fatal(err)
	}
	logged := o.LoggedAt
	if logged.IsZero() {
		logged = time.Now()
	}
	AppendLegacy(t, repo, digest, payload, map[string]string{
		"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig),
		"dev.sigstore.cosign/certificate":    string(certPEM),
		"dev.sigstore.cosign/chain":          string(chainPEM),
		"dev.sigstore.cosign/bundle":         s.rekorBundle(t, sum[:], sig, certPEM, logged),
	}, opts...)
}

// rekorBundle logs a hashedrekord entry and returns cosign's bundle annotation for it.
func (s *Sigstore) rekorBundle(t testing.TB, digest, sig, certPEM []byte, at time.Time) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"apiVersion": "0.0.1",
		"kind":       "hashedrekord",
		"spec": map[string]any{
			"data":      map[string]any{"hash": map[string]string{"algorithm": "sha256", "value": hex.EncodeToString(digest)}},
			"signature": map[string]any{"content": base64.StdEncoding.EncodeToString(sig), "publicKey": map[string]string{"content": base64.StdEncoding.EncodeToString(certPEM)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	logID, err := s.ca.RekorLogID()
	if err != nil {
		t.Fatal(err)
	}
	payload := tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: at.Unix(), LogIndex: 1000, LogID: logID}
	set, err := s.ca.RekorSignPayload(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(map[string]any{"SignedEntryTimestamp": set, "Payload": map[string]any{
		"body": body, "integratedTime": payload.IntegratedTime, "logIndex": payload.LogIndex, "logID": logID}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
