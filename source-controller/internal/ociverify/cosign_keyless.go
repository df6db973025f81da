package ociverify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// Identity is one accepted keyless signer: Go regular expressions for the certificate's OIDC
// issuer and subject (spec.verify.matchOIDCIdentity).
type Identity struct {
	Issuer, Subject string
}

// TrustedRootKey is the entry of spec.verify.trustedRootSecretRef holding the trusted root.
const TrustedRootKey = "trusted_root.json"

// cosignKeyless verifies Fulcio-certified signatures against a Sigstore trusted root.
type cosignKeyless struct {
	trusted    root.TrustedMaterial
	verifier   *verify.Verifier
	identities []verify.CertificateIdentity
	describe   []string
}

// NewCosignKeyless builds a keyless verifier. trusted is the Sigstore trusted root (parse a
// trusted_root.json with ParseTrustedRoot; Sigstore's public root comes through TUF). The
// verification asks for what the root can vouch for: a transparency log entry when the root
// has logs, a signed timestamp when it has timestamp authorities (one of the two as the time
// of signing), the current time otherwise, and certificate transparency when it has CT logs.
func NewCosignKeyless(trusted root.TrustedMaterial, identities []Identity) (Verifier, error) {
	var opts []verify.VerifierOption
	hasTlog, hasTSA := len(trusted.RekorLogs()) > 0, len(trusted.TimestampingAuthorities()) > 0
	switch {
	case hasTlog:
		opts = append(opts, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	case hasTSA:
		opts = append(opts, verify.WithSignedTimestamps(1))
	default:
		opts = append(opts, verify.WithCurrentTime())
	}
	if len(trusted.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	v, err := verify.NewVerifier(trusted, opts...)
	if err != nil {
		return nil, fmt.Errorf("invalid trusted root: %w", err)
	}
	k := &cosignKeyless{trusted: trusted, verifier: v}
	if len(identities) == 0 {
		// Upstream accepts any identity the root certifies when none is given.
		identities = []Identity{{Issuer: ".*", Subject: ".*"}}
	}
	for i, id := range identities {
		for field, re := range map[string]string{"issuer": id.Issuer, "subject": id.Subject} {
			if _, err := regexp.Compile(re); err != nil {
				return nil, fmt.Errorf("matchOIDCIdentity[%d].%s %q is not a valid regular expression: %v", i, field, re, err)
			}
		}
		ci, err := verify.NewShortCertificateIdentity("", id.Issuer, "", id.Subject)
		if err != nil {
			return nil, fmt.Errorf("matchOIDCIdentity[%d]: %w", i, err)
		}
		k.identities = append(k.identities, ci)
		k.describe = append(k.describe, fmt.Sprintf("issuer=~%q subject=~%q", id.Issuer, id.Subject))
	}
	return k, nil
}

// ParseTrustedRoot reads a trusted_root.json.
func ParseTrustedRoot(data []byte) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("'%s' is not a Sigstore trusted root: %w", TrustedRootKey, err)
	}
	return tr, nil
}

func (k *cosignKeyless) policyOptions() []verify.PolicyOption {
	out := make([]verify.PolicyOption, 0, len(k.identities))
	for _, id := range k.identities {
		out = append(out, verify.WithCertificateIdentity(id))
	}
	return out
}

func (k *cosignKeyless) Verify(ctx context.Context, t Target) (string, error) {
	sigs, err := legacySignatures(ctx, t)
	if err != nil {
		return "", err
	}
	var f failures
	for _, s := range sigs {
		entity, err := legacyEntity(s)
		if err != nil {
			f.add("%v", err)
			continue
		}
		res, err := k.verifier.Verify(entity, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(s.payload)), k.policyOptions()...))
		if err != nil {
			f.add("%s", k.explain(err))
			continue
		}
		if err := checkPayload(s.payload, t); err != nil {
			f.add("%v", err)
			continue
		}
		return describeResult(res), nil
	}
	bundles, err := bundleSignatures(ctx, t)
	if err != nil {
		return "", err
	}
	for _, b := range bundles {
		policy, err := digestPolicy(t, k.policyOptions()...)
		if err != nil {
			return "", err
		}
		res, err := k.verifier.Verify(b, policy)
		if err != nil {
			f.add("%s", k.explain(err))
			continue
		}
		return describeResult(res), nil
	}
	return "", f.err(t, "cosign keyless")
}

// explain names the accepted identities when the certificate matched none of them.
func (k *cosignKeyless) explain(err error) string {
	var idErr *verify.ErrNoMatchingCertificateIdentity
	if errors.As(err, &idErr) {
		return fmt.Sprintf("%v (accepted: %v)", err, k.describe)
	}
	return err.Error()
}

func describeResult(res *verify.VerificationResult) string {
	if res != nil && res.Signature != nil && res.Signature.Certificate != nil {
		c := res.Signature.Certificate
		return fmt.Sprintf("cosign keyless signature verified for subject '%s' issued by '%s'", c.SubjectAlternativeName, c.Issuer)
	}
	return "cosign signature verified"
}

// digestPolicy is the policy for a bundle signing t's manifest digest.
func digestPolicy(t Target, opts ...verify.PolicyOption) (verify.PolicyBuilder, error) {
	alg, hexDigest, ok := cutDigest(t.Digest)
	if !ok {
		return verify.PolicyBuilder{}, fmt.Errorf("invalid digest %q", t.Digest)
	}
	raw, err := hex.DecodeString(hexDigest)
	if err != nil {
		return verify.PolicyBuilder{}, fmt.Errorf("invalid digest %q", t.Digest)
	}
	return verify.NewPolicy(verify.WithArtifactDigest(alg, raw), opts...), nil
}

// legacyEntity turns a `.sig` layer made keyless (certificate, chain, Rekor bundle, RFC 3161
// timestamp annotations) into what sigstore-go verifies.
func legacyEntity(s legacySignature) (verify.SignedEntity, error) {
	sig, err := base64.StdEncoding.DecodeString(s.annotations[annotationSignature])
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("a signature layer has no valid '%s' annotation", annotationSignature)
	}
	certPEM := s.annotations[annotationCertificate]
	if certPEM == "" {
		return nil, errors.New("a signature has no certificate: it was made with a key, not keyless")
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(certPEM))
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("a signature's '%s' annotation is not a PEM certificate", annotationCertificate)
	}
	digest := sha256.Sum256(s.payload)
	e := &legacyKeyless{
		cert: bundle.NewCertificate(certs[0]),
		sig:  bundle.NewMessageSignature(digest[:], "SHA2_256", sig),
	}
	if raw := s.annotations[annotationRekorBundle]; raw != "" {
		entry, err := rekorEntry(raw)
		if err != nil {
			return nil, err
		}
		e.tlog = []*tlog.Entry{entry}
	}
	if raw := s.annotations[annotationTimestamp]; raw != "" {
		var ts struct {
			SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
		}
		if err := json.Unmarshal([]byte(raw), &ts); err != nil || len(ts.SignedRFC3161Timestamp) == 0 {
			return nil, fmt.Errorf("a signature's '%s' annotation is not a timestamp", annotationTimestamp)
		}
		e.timestamps = [][]byte{ts.SignedRFC3161Timestamp}
	}
	return e, nil
}

// rekorBundle is cosign's `dev.sigstore.cosign/bundle` annotation: a Rekor entry and its
// signed entry timestamp (the log's promise to include it).
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           []byte `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

func rekorEntry(raw string) (*tlog.Entry, error) {
	var b rekorBundle
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return nil, fmt.Errorf("a signature's '%s' annotation is not a Rekor bundle", annotationRekorBundle)
	}
	logID, err := hex.DecodeString(b.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("a signature's Rekor bundle has an invalid log ID")
	}
	entry, err := tlog.NewEntry(b.Payload.Body, b.Payload.IntegratedTime, b.Payload.LogIndex, logID, b.SignedEntryTimestamp, nil) //nolint:staticcheck // cosign's annotation is a Rekor v1 entry, which NewEntry reads
	if err != nil {
		return nil, fmt.Errorf("a signature's Rekor entry does not parse: %w", err)
	}
	return entry, nil
}

// legacyKeyless is a keyless `.sig` layer as a sigstore-go signed entity.
type legacyKeyless struct {
	cert       *bundle.Certificate
	sig        *bundle.MessageSignature
	tlog       []*tlog.Entry
	timestamps [][]byte
}

func (e *legacyKeyless) VerificationContent() (verify.VerificationContent, error) {
	return e.cert, nil
}
func (e *legacyKeyless) SignatureContent() (verify.SignatureContent, error) { return e.sig, nil }
func (e *legacyKeyless) Timestamps() ([][]byte, error)                      { return e.timestamps, nil }
func (e *legacyKeyless) TlogEntries() ([]*tlog.Entry, error)                { return e.tlog, nil }
func (e *legacyKeyless) HasInclusionPromise() bool                          { return len(e.tlog) > 0 }
func (e *legacyKeyless) HasInclusionProof() bool                            { return false }

// Version is the oldest bundle version: the inclusion promise alone is what cosign 2 stored.
func (e *legacyKeyless) Version() (string, error) { return "v0.1", nil }
