package ociverify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Where and how cosign (up to v2, and v3 with --new-bundle-format=false) stores signatures:
// the `sha256-<hex>.sig` tag, one simple-signing layer per signature.
const (
	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	annotationSignature    = "dev.cosignproject.cosign/signature"
	annotationCertificate  = "dev.sigstore.cosign/certificate"
	annotationChain        = "dev.sigstore.cosign/chain"
	annotationRekorBundle  = "dev.sigstore.cosign/bundle"
	annotationTimestamp    = "dev.sigstore.cosign/rfc3161timestamp"
	// simpleSigningType is the critical.type of a cosign image signature payload.
	simpleSigningType = "cosign container image signature"
)

// maxSignatureLayer bounds what is read of one signature layer or bundle: they are a few KiB.
const maxSignatureLayer = 1 << 20

// maxSignatures bounds how many signatures of one artifact are looked at.
const maxSignatures = 32

// legacySignature is one simple-signing layer of a `.sig` manifest.
type legacySignature struct {
	payload     []byte
	annotations map[string]string
}

// legacySignatures reads the `.sig` manifest of t; none is not an error.
func legacySignatures(ctx context.Context, t Target) ([]legacySignature, error) {
	tag := t.Repo.Tag(strings.Replace(t.Digest, ":", "-", 1) + ".sig")
	img, err := remote.Image(tag, append(t.Remote, remote.WithContext(ctx))...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get the signatures of %s: %w", t, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("failed to read the signature manifest of %s: %w", t, err)
	}
	var out []legacySignature
	for i, l := range m.Layers {
		if l.MediaType != simpleSigningMediaType || i >= maxSignatures {
			continue
		}
		if l.Size > maxSignatureLayer {
			return nil, fmt.Errorf("signature layer %s of %s is %d bytes, more than a signature", l.Digest, t, l.Size)
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("failed to get signature layer %s of %s: %w", l.Digest, t, err)
		}
		rc, err := layer.Compressed()
		if err != nil {
			return nil, fmt.Errorf("failed to get signature layer %s of %s: %w", l.Digest, t, err)
		}
		payload, err := io.ReadAll(io.LimitReader(rc, maxSignatureLayer))
		_ = rc.Close()
		if err != nil {
			return nil, fmt.Errorf("failed to read signature layer %s of %s: %w", l.Digest, t, err)
		}
		out = append(out, legacySignature{payload: payload, annotations: l.Annotations})
	}
	return out, nil
}

// simpleSigning is the payload cosign signs for an image.
type simpleSigning struct {
	Critical struct {
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// checkPayload makes sure a verified payload is about t's digest: a valid signature of another
// artifact, copied over, must not pass.
func checkPayload(payload []byte, t Target) error {
	var p simpleSigning
	if err := json.Unmarshal(payload, &p); err != nil {
		return errors.New("the signed payload is not a simple-signing document")
	}
	if p.Critical.Type != simpleSigningType {
		return fmt.Errorf("the signed payload is of type %q, not a cosign image signature", p.Critical.Type)
	}
	if p.Critical.Image.DockerManifestDigest != t.Digest {
		return fmt.Errorf("the signature is for %s, not %s", p.Critical.Image.DockerManifestDigest, t.Digest)
	}
	return nil
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && (te.StatusCode == http.StatusNotFound)
}
