package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fluxcd/pkg/apis/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/ociverify"
)

// Verification is what OCIRepository and HelmChart signature verification share: the cache
// of verified digests, the controller's private Sigstore root if it has one, and Sigstore's
// public trusted root.
type Verification struct {
	Cache *ociverify.Cache
	// LocalRoot, when set, is the trusted root of keyless verification for objects that name
	// none (every HelmChart; OCIRepositories without spec.verify.trustedRootSecretRef)
	// instead of Sigstore's public root: --sigstore-trusted-root or cosign's SIGSTORE_*
	// environment variables.
	LocalRoot  *ociverify.LocalRoot
	PublicRoot *ociverify.PublicRoot
}

// NewVerification returns the shared verification state; TUF metadata goes to $TUF_ROOT as
// with cosign, else under tmpDir.
func NewVerification(tmpDir string) *Verification {
	if tmpDir == "" {
		tmpDir = os.TempDir()
	}
	tufDir := ociverify.TUFCacheDir(os.Getenv)
	if tufDir == "" {
		tufDir = filepath.Join(tmpDir, "sigstore-tuf")
	}
	return &Verification{Cache: ociverify.NewCache(4096), PublicRoot: &ociverify.PublicRoot{CacheDir: tufDir}}
}

// verifyOCI checks spec.verify for the artifact t in namespace ns and returns the
// SourceVerified message. Secrets that cannot work stall; a signature that does not verify
// fails and is retried (it may be pushed after the artifact). Verifications that passed are
// remembered per digest and inputs, so an unchanged digest is verified once.
func (v *Verification) verifyOCI(ctx context.Context, c client.Reader, ns string, spec *sourcev1.OCIVerification,
	trustedRootRef *meta.LocalObjectReference, t ociverify.Target) (string, error) {
	key := ociverify.Key{Provider: spec.Provider, Target: t.String()}
	if ref := spec.SecretRef; ref != nil {
		data, err := secretData(ctx, c, ns, ref.Name)
		if err != nil {
			return "", reconcile.Fail(sourcev1.VerificationError, fmt.Errorf("failed to get verification secret '%s/%s': %w", ns, ref.Name, err))
		}
		key.Secret = data
	}
	if trustedRootRef != nil {
		data, err := secretData(ctx, c, ns, trustedRootRef.Name)
		if err != nil {
			return "", reconcile.Fail(sourcev1.VerificationError, fmt.Errorf("failed to get trusted root secret '%s/%s': %w", ns, trustedRootRef.Name, err))
		}
		raw, ok := data[ociverify.TrustedRootKey]
		if !ok {
			return "", reconcile.Stall(sourcev1.VerificationError, fmt.Errorf("trusted root secret '%s/%s' has no '%s' entry", ns, trustedRootRef.Name, ociverify.TrustedRootKey))
		}
		key.TrustedRoot = raw
	} else if v.LocalRoot != nil && keyless(spec) {
		raw, err := v.LocalRoot.TrustedRoot()
		if err != nil {
			return "", reconcile.Fail(sourcev1.VerificationError, err)
		}
		key.TrustedRoot, key.LocalRoot = raw, true
	}
	for _, id := range spec.MatchOIDCIdentity {
		key.Identities = append(key.Identities, ociverify.Identity{Issuer: id.Issuer, Subject: id.Subject})
	}
	cacheKey := key.String()
	if msg, ok := v.Cache.Get(cacheKey); ok {
		return msg, nil
	}
	verifier, err := v.verifier(ns, spec, key)
	if err != nil {
		return "", err
	}
	msg, err := verifier.Verify(ctx, t)
	if err != nil {
		return "", reconcile.Fail(sourcev1.VerificationError, err)
	}
	v.Cache.Add(cacheKey, msg)
	return msg, nil
}

// verifier builds the verifier spec.verify names from the Secrets read into key.
func (v *Verification) verifier(ns string, spec *sourcev1.OCIVerification, key ociverify.Key) (ociverify.Verifier, error) {
	secretName := func() string {
		if spec.SecretRef == nil {
			return ""
		}
		return ns + "/" + spec.SecretRef.Name
	}
	stall := func(format string, args ...any) error {
		return reconcile.Stall(sourcev1.VerificationError, fmt.Errorf(format, args...))
	}
	switch spec.Provider {
	case sourcev1.VerificationProviderCosign, "":
		if spec.SecretRef != nil {
			if len(spec.MatchOIDCIdentity) > 0 {
				return nil, stall("spec.verify.matchOIDCIdentity is for keyless verification: remove spec.verify.secretRef or the identities")
			}
			vf, err := ociverify.NewCosignKeys(key.Secret)
			if err != nil {
				return nil, stall("verification secret '%s': %w", secretName(), err)
			}
			return vf, nil
		}
		trusted := key.TrustedRoot
		if trusted != nil {
			tr, err := ociverify.ParseTrustedRoot(trusted)
			if key.LocalRoot && err != nil {
				// The controller's file changed under it: retried, it may be fixed in place.
				return nil, reconcile.Fail(sourcev1.VerificationError, fmt.Errorf("%s: %w", v.LocalRoot, err))
			}
			if err != nil {
				return nil, stall("%w", err)
			}
			vf, err := ociverify.NewCosignKeyless(tr, key.Identities)
			if err != nil {
				return nil, stall("%w", err)
			}
			return vf, nil
		}
		tr, err := v.PublicRoot.Get()
		if err != nil {
			return nil, reconcile.Fail(sourcev1.VerificationError, fmt.Errorf("failed to get Sigstore's public trusted root: %w (an air-gapped cluster needs a private Sigstore: spec.verify.trustedRootSecretRef, or for every object the controller's --sigstore-trusted-root or SIGSTORE_ROOT_FILE and SIGSTORE_REKOR_PUBLIC_KEY)", err))
		}
		vf, err := ociverify.NewCosignKeyless(tr, key.Identities)
		if err != nil {
			return nil, stall("%w", err)
		}
		return vf, nil
	case sourcev1.VerificationProviderNotation:
		if spec.SecretRef == nil {
			return nil, stall("notation verification needs spec.verify.secretRef with the CA certificates and '%s'", ociverify.TrustPolicyKey)
		}
		vf, err := ociverify.NewNotation(key.Secret)
		if err != nil {
			return nil, stall("verification secret '%s': %w", secretName(), err)
		}
		return vf, nil
	default:
		return nil, stall("unsupported verification provider '%s'", spec.Provider)
	}
}

// keyless tells whether spec.verify asks for cosign keyless verification.
func keyless(spec *sourcev1.OCIVerification) bool {
	return (spec.Provider == sourcev1.VerificationProviderCosign || spec.Provider == "") && spec.SecretRef == nil
}
