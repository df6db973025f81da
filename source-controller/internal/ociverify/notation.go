package ociverify

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrv1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// TrustPolicyKey is the entry of a notation verification Secret holding the trust policy.
const TrustPolicyKey = "trustpolicy.json"

// maxNotationSignatures is how many signatures notation looks at before giving up.
const maxNotationSignatures = 50

// maxEnvelope bounds a notation signature envelope.
const maxEnvelope = 4 << 20

type notationVerifier struct {
	verifier notation.Verifier
}

// NewNotation reads a notation verification Secret: the CA certificates of its `*.pem` and
// `*.crt` entries form the trust store (every store the policy names is served them, as
// upstream), and `trustpolicy.json` the trust policy.
func NewNotation(secret map[string][]byte) (Verifier, error) {
	raw, ok := secret[TrustPolicyKey]
	if !ok {
		return nil, fmt.Errorf("no '%s' in the Secret", TrustPolicyKey)
	}
	var doc trustpolicy.Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("'%s' is not JSON: %v", TrustPolicyKey, err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("'%s': %w", TrustPolicyKey, err)
	}
	var names []string
	for n := range secret {
		if strings.HasSuffix(n, ".pem") || strings.HasSuffix(n, ".crt") {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, errors.New("no CA certificate: the Secret has no '*.pem' or '*.crt' entry")
	}
	slices.Sort(names)
	var store memoryTrustStore
	for _, n := range names {
		certs, err := cryptoutils.UnmarshalCertificatesFromPEM(secret[n])
		if err != nil || len(certs) == 0 {
			return nil, fmt.Errorf("entry '%s' holds no PEM certificate", n)
		}
		store = append(store, certs...)
	}
	v, err := verifier.New(&doc, store, nil)
	if err != nil {
		return nil, fmt.Errorf("notation verifier: %w", err)
	}
	return &notationVerifier{verifier: v}, nil
}

func (n *notationVerifier) Verify(ctx context.Context, t Target) (string, error) {
	repo := &ggcrRepository{repo: t.Repo, remote: t.Remote}
	_, outcomes, err := notation.Verify(ctx, n.verifier, repo, notation.VerifyOptions{
		ArtifactReference:    t.Repo.Name() + "@" + t.Digest,
		MaxSignatureAttempts: maxNotationSignatures,
	})
	if err != nil {
		var none notation.ErrorSignatureRetrievalFailed
		if errors.As(err, &none) {
			return "", fmt.Errorf("notation: %w for %s: %v", ErrNoSignature, t, err)
		}
		var why []string
		for _, o := range outcomes {
			if o.Error != nil && len(why) < 5 {
				why = append(why, o.Error.Error())
			}
		}
		if len(why) > 0 {
			return "", fmt.Errorf("notation: %s: %w: %s", t, err, strings.Join(why, "; "))
		}
		return "", fmt.Errorf("notation: %s: %w", t, err)
	}
	for _, o := range outcomes {
		if o.Error == nil && o.EnvelopeContent != nil && len(o.EnvelopeContent.SignerInfo.CertificateChain) > 0 {
			return fmt.Sprintf("notation signature verified for '%s'", o.EnvelopeContent.SignerInfo.CertificateChain[0].Subject), nil
		}
	}
	return "notation signature verified", nil
}

// memoryTrustStore serves the Secret's certificates for every named store.
type memoryTrustStore []*x509.Certificate

func (s memoryTrustStore) GetCertificates(_ context.Context, _ truststore.Type, _ string) ([]*x509.Certificate, error) {
	return s, nil
}

// ggcrRepository gives notation read access to signatures through go-containerregistry, with
// the object's credentials and transport.
type ggcrRepository struct {
	repo   name.Repository
	remote []remote.Option
}

func (r *ggcrRepository) opts(ctx context.Context) []remote.Option {
	return append(append([]remote.Option(nil), r.remote...), remote.WithContext(ctx))
}

func (r *ggcrRepository) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	ref, err := name.ParseReference(r.repo.Name() + refSeparator(reference) + reference)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d, err := remote.Head(ref, r.opts(ctx)...)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return toOCI(*d), nil
}

func refSeparator(reference string) string {
	if strings.Contains(reference, ":") {
		return "@"
	}
	return ":"
}

func (r *ggcrRepository) ListSignatures(ctx context.Context, desc ocispec.Descriptor, fn func([]ocispec.Descriptor) error) error {
	idx, err := remote.Referrers(r.repo.Digest(desc.Digest.String()), r.opts(ctx)...)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	var sigs []ocispec.Descriptor
	for _, d := range m.Manifests {
		if d.ArtifactType == registry.ArtifactTypeNotation {
			sigs = append(sigs, toOCI(d))
		}
	}
	if len(sigs) == 0 {
		return nil
	}
	return fn(sigs)
}

func (r *ggcrRepository) FetchSignatureBlob(ctx context.Context, desc ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	img, err := remote.Image(r.repo.Digest(desc.Digest.String()), r.opts(ctx)...)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	if len(m.Layers) != 1 {
		return nil, ocispec.Descriptor{}, fmt.Errorf("signature manifest %s has %d layers, want 1", desc.Digest, len(m.Layers))
	}
	l := m.Layers[0]
	if l.Size > maxEnvelope {
		return nil, ocispec.Descriptor{}, fmt.Errorf("signature envelope %s is %d bytes, more than a signature", l.Digest, l.Size)
	}
	layer, err := img.LayerByDigest(l.Digest)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	defer rc.Close()
	blob, err := io.ReadAll(io.LimitReader(rc, maxEnvelope))
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return blob, toOCI(l), nil
}

// PushSignature is not used: source-controller only verifies.
func (r *ggcrRepository) PushSignature(context.Context, string, []byte, ocispec.Descriptor, map[string]string) (ocispec.Descriptor, ocispec.Descriptor, error) {
	return ocispec.Descriptor{}, ocispec.Descriptor{}, errors.New("read-only repository")
}

func toOCI(d ggcrv1.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: string(d.MediaType), Digest: digest.Digest(d.Digest.String()), Size: d.Size,
		ArtifactType: d.ArtifactType, Annotations: d.Annotations}
}
