package testsign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
	"oras.land/oras-go/v2/registry/remote"
)

// NotationCA is a certificate authority and a code-signing certificate it issued, for
// notation.
type NotationCA struct {
	// CAPEM is the CA certificate, for the `*.pem`/`*.crt` entries of the verification Secret.
	CAPEM []byte
	leaf  *x509.Certificate
	ca    *x509.Certificate
	key   *ecdsa.PrivateKey
}

// NewNotationCA makes a CA and a signing certificate for subject (its common name).
func NewNotationCA(t testing.TB, subject string) *NotationCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: subject + " CA", Organization: []string{"gotk tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: subject, Organization: []string{"gotk tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return &NotationCA{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), leaf: leaf, ca: caCert, key: leafKey}
}

// Sign signs reference ("host/repo@sha256:...") on a plain-HTTP registry without auth.
func (n *NotationCA) Sign(t testing.TB, reference string) {
	t.Helper()
	n.SignWith(t, reference, func(r *remote.Repository) { r.PlainHTTP = true })
}

// SignWith signs reference with notation-go and pushes the signature with notation's
// registry client (OCI referrers, or the referrers tag schema); configure sets the
// repository's transport and credentials.
func (n *NotationCA) SignWith(t testing.TB, reference string, configure func(*remote.Repository)) {
	t.Helper()
	s, err := signer.NewGenericSigner(n.key, []*x509.Certificate{n.leaf, n.ca})
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.NewRepository(reference)
	if err != nil {
		t.Fatal(err)
	}
	configure(r)
	if _, err := notation.Sign(context.Background(), s, registry.NewRepository(r), notation.SignOptions{
		ArtifactReference: reference,
		SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: "application/jose+json"},
	}); err != nil {
		t.Fatal(err)
	}
}

// TrustPolicy is a trustpolicy.json trusting store "ca:flux" for every registry, with the
// given trusted identities ("*" for any).
func TrustPolicy(identities ...string) []byte {
	if len(identities) == 0 {
		identities = []string{"*"}
	}
	doc := map[string]any{"version": "1.0", "trustPolicies": []any{map[string]any{
		"name": "flux", "registryScopes": []string{"*"}, "signatureVerification": map[string]string{"level": "strict"},
		"trustStores": []string{"ca:flux"}, "trustedIdentities": identities,
	}}}
	b, _ := jsonMarshal(doc)
	return b
}
