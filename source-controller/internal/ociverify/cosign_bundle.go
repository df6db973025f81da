package ociverify

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// bundleArtifactTypePrefix starts the artifact type of Sigstore bundles attached as OCI
// referrers ("application/vnd.dev.sigstore.bundle.v0.3+json").
const bundleArtifactTypePrefix = "application/vnd.dev.sigstore.bundle"

// bundleSignatures reads the Sigstore bundles attached to t as referrers (the registry's
// referrers API, or the tag schema go-containerregistry falls back to).
func bundleSignatures(ctx context.Context, t Target) ([]*bundle.Bundle, error) {
	idx, err := remote.Referrers(t.Repo.Digest(t.Digest), append(t.Remote, remote.WithContext(ctx))...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to list the referrers of %s: %w", t, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("failed to read the referrers of %s: %w", t, err)
	}
	var out []*bundle.Bundle
	for _, d := range m.Manifests {
		if !strings.HasPrefix(d.ArtifactType, bundleArtifactTypePrefix) || len(out) >= maxSignatures {
			continue
		}
		img, err := remote.Image(t.Repo.Digest(d.Digest.String()), append(t.Remote, remote.WithContext(ctx))...)
		if err != nil {
			return nil, fmt.Errorf("failed to get bundle %s of %s: %w", d.Digest, t, err)
		}
		layers, err := img.Layers()
		if err != nil || len(layers) == 0 {
			return nil, fmt.Errorf("bundle %s of %s has no layer", d.Digest, t)
		}
		rc, err := layers[0].Compressed()
		if err != nil {
			return nil, fmt.Errorf("failed to get bundle %s of %s: %w", d.Digest, t, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxSignatureLayer))
		_ = rc.Close()
		if err != nil {
			return nil, fmt.Errorf("failed to read bundle %s of %s: %w", d.Digest, t, err)
		}
		var b bundle.Bundle
		if err := b.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("referrer %s of %s is not a Sigstore bundle: %w", d.Digest, t, err)
		}
		out = append(out, &b)
	}
	return out, nil
}

// verifyBundles checks key-signed bundles against the trusted keys.
func (v *cosignKeys) verifyBundles(bundles []*bundle.Bundle, t Target, f *failures) (string, error) {
	for _, k := range v.keys {
		material := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(k.verifier, time.Time{}, time.Time{}), nil
		})
		verifier, err := verify.NewVerifier(material, verify.WithNoObserverTimestamps())
		if err != nil {
			return "", err
		}
		policy, err := digestPolicy(t, verify.WithKey())
		if err != nil {
			return "", err
		}
		for _, b := range bundles {
			if _, err := verifier.Verify(b, policy); err == nil {
				return fmt.Sprintf("cosign bundle verified with key '%s'", k.name), nil
			}
		}
	}
	f.add("%d Sigstore bundle(s) not signed by any of the trusted keys", len(bundles))
	return "", fmt.Errorf("no bundle verified")
}

func cutDigest(d string) (alg, hexDigest string, ok bool) {
	alg, hexDigest, ok = strings.Cut(d, ":")
	return alg, hexDigest, ok && alg != "" && hexDigest != ""
}
