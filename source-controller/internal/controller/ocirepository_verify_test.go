package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/name"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/testsign"
)

// TestOCIRepositoryVerify pulls signed and unsigned artifacts with spec.verify: cosign with
// public keys, cosign keyless on a private Sigstore (trustedRootSecretRef) and notation. An
// artifact is stored only when its signature verifies; every refusal says why in
// SourceVerified and Ready, and stores nothing.
func TestOCIRepositoryVerify(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := plainClient(t)
	push := func(repo, content string) (name.Repository, string) {
		digest := pushFlux(t, c, reg.URL(repo)+":v1", map[string]string{"app.yaml": content}, oci.PushOptions{})
		r, err := name.NewRepository(reg.Host() + "/" + repo)
		if err != nil {
			t.Fatal(err)
		}
		return r, digest
	}
	key, otherKey := testsign.NewKey(t), testsign.NewKey(t)
	sigstore := testsign.NewSigstore(t)
	notary := testsign.NewNotationCA(t, "gotk signer")
	otherNotary := testsign.NewNotationCA(t, "someone else")

	ns := newNamespace(t)
	createSecret(t, ns, "cosign-keys", "", map[string][]byte{"key1.pub": otherKey.PublicPEM, "key2.pub": key.PublicPEM})
	createSecret(t, ns, "other-key", "", map[string][]byte{"other.pub": otherKey.PublicPEM})
	createSecret(t, ns, "trusted-root", "", map[string][]byte{"trusted_root.json": sigstore.TrustedRoot})
	createSecret(t, ns, "notation", "", map[string][]byte{"ca.pem": notary.CAPEM, "trustpolicy.json": testsign.TrustPolicy()})
	createSecret(t, ns, "notation-other-ca", "", map[string][]byte{"ca.crt": otherNotary.CAPEM, "trustpolicy.json": testsign.TrustPolicy()})
	createSecret(t, ns, "no-pub", "", map[string][]byte{"key.txt": key.PublicPEM})

	identity := []sourcev1.OIDCIdentityMatch{{Issuer: "^https://issuer\\.example$", Subject: "^ci@example\\.com$"}}
	cosignKeys := &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{Provider: "cosign", SecretRef: &meta.LocalObjectReference{Name: "cosign-keys"}}}
	keyless := func(ids []sourcev1.OIDCIdentityMatch) *sourcev1.OCIRepositoryVerification {
		return &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{Provider: "cosign", MatchOIDCIdentity: ids},
			TrustedRootSecretRef: &meta.LocalObjectReference{Name: "trusted-root"}}
	}
	notation := func(secret string) *sourcev1.OCIRepositoryVerification {
		return &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{Provider: "notation", SecretRef: &meta.LocalObjectReference{Name: secret}}}
	}

	for _, tc := range []struct {
		name   string
		sign   func(r name.Repository, digest string)
		verify *sourcev1.OCIRepositoryVerification
		// wantErr fragments of the SourceVerified=False message; none means verified.
		wantErr []string
		stalled bool
	}{
		{name: "cosign-key", sign: func(r name.Repository, d string) { key.SignLegacy(t, r, d) }, verify: cosignKeys},
		{name: "cosign-key-copied-signature", sign: func(r name.Repository, d string) {
			_, other := push("verify/copied-from", "another artifact")
			key.SignLegacyOther(t, r, d, other)
		}, verify: cosignKeys, wantErr: []string{"signed with key 'key2.pub', but the signature is for sha256:"}},
		{name: "cosign-key-unsigned", verify: cosignKeys, wantErr: []string{"no signature found"}},
		{name: "cosign-key-wrong-key", sign: func(r name.Repository, d string) { key.SignLegacy(t, r, d) },
			verify:  &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{Provider: "cosign", SecretRef: &meta.LocalObjectReference{Name: "other-key"}}},
			wantErr: []string{"not signed by any of the trusted keys"}},
		{name: "cosign-key-secret-without-pub", verify: &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{Provider: "cosign", SecretRef: &meta.LocalObjectReference{Name: "no-pub"}}},
			wantErr: []string{"no cosign public key: the Secret has no '*.pub' entry"}, stalled: true},
		{name: "keyless", verify: keyless(identity), sign: func(r name.Repository, d string) {
			sigstore.SignLegacy(t, r, d, testsign.KeylessOptions{Identity: "ci@example.com", Issuer: "https://issuer.example"})
		}},
		{name: "keyless-any-identity", verify: keyless(nil), sign: func(r name.Repository, d string) {
			sigstore.SignLegacy(t, r, d, testsign.KeylessOptions{Identity: "someone@example.org", Issuer: "https://other.example"})
		}},
		{name: "keyless-wrong-identity", verify: keyless(identity), sign: func(r name.Repository, d string) {
			sigstore.SignLegacy(t, r, d, testsign.KeylessOptions{Identity: "mallory@example.com", Issuer: "https://issuer.example"})
		}, wantErr: []string{"mallory@example.com", `subject=~"^ci@example\\.com$"`}},
		{name: "keyless-bundle", verify: keyless(identity), sign: func(r name.Repository, d string) {
			sigstore.SignBundle(t, r, d, testsign.KeylessOptions{Identity: "ci@example.com", Issuer: "https://issuer.example"})
		}},
		{name: "keyless-bundle-wrong-identity", verify: keyless(identity), sign: func(r name.Repository, d string) {
			sigstore.SignBundle(t, r, d, testsign.KeylessOptions{Identity: "mallory@example.com", Issuer: "https://issuer.example"})
		}, wantErr: []string{"mallory@example.com", `issuer=~"^https://issuer\\.example$"`}},
		{name: "keyless-bundle-of-another-artifact", verify: keyless(identity), sign: func(r name.Repository, d string) {
			_, other := push("verify/bundle-source", "another artifact")
			sigstore.SignBundleOther(t, r, d, other, testsign.KeylessOptions{Identity: "ci@example.com", Issuer: "https://issuer.example"})
		}, wantErr: []string{"none of the 1 signature(s)"}},
		{name: "keyless-expired-certificate", verify: keyless(identity), sign: func(r name.Repository, d string) {
			sigstore.SignLegacy(t, r, d, testsign.KeylessOptions{Identity: "ci@example.com", Issuer: "https://issuer.example",
				LoggedAt: time.Now().Add(30 * time.Minute)})
		}, wantErr: []string{"certificate"}},
		{name: "keyless-signed-with-key", verify: keyless(identity), sign: func(r name.Repository, d string) { key.SignLegacy(t, r, d) },
			wantErr: []string{"it was made with a key, not keyless"}},
		{name: "keyless-bad-identity-regex", verify: keyless([]sourcev1.OIDCIdentityMatch{{Issuer: "(", Subject: ".*"}}),
			wantErr: []string{"matchOIDCIdentity[0].issuer"}, stalled: true},
		{name: "notation", verify: notation("notation"), sign: func(r name.Repository, d string) { notary.Sign(t, r.Name()+"@"+d) }},
		{name: "notation-unsigned", verify: notation("notation"), wantErr: []string{"notation"}},
		{name: "notation-untrusted-ca", verify: notation("notation-other-ca"), sign: func(r name.Repository, d string) { notary.Sign(t, r.Name()+"@"+d) },
			wantErr: []string{"notation"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo, digest := push("verify/"+tc.name, tc.name)
			if tc.sign != nil {
				tc.sign(repo, digest)
			}
			obj := newOCIRepository(ns, tc.name, reg.URL("verify/"+tc.name), func(o *sourcev1.OCIRepository) {
				o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
				o.Spec.Verify = tc.verify
			})
			create(t, obj)
			if tc.wantErr == nil {
				waitReady(t, obj)
				wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, meta.SucceededReason, "v1@"+digest)
				if obj.Status.Artifact == nil || obj.Status.Artifact.Revision != "v1@"+digest {
					t.Fatalf("artifact %+v, want revision v1@%s", obj.Status.Artifact, digest)
				}
				return
			}
			waitNotReady(t, obj, sourcev1.VerificationError)
			wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationError, tc.wantErr...)
			if tc.stalled {
				wantCondition(t, obj, meta.StalledCondition, metav1.ConditionTrue, sourcev1.VerificationError)
			} else {
				wantNoCondition(t, obj, meta.StalledCondition)
			}
			if obj.Status.Artifact != nil {
				t.Fatalf("artifact stored for an unverified digest: %+v", obj.Status.Artifact)
			}
			if c := reconcile.GetCondition(obj, meta.ReadyCondition); c == nil || !strings.Contains(c.Message, tc.wantErr[0]) {
				t.Fatalf("Ready does not say why: %v", c)
			}
		})
	}
}
