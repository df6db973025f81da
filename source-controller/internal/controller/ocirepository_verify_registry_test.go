package controller

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	orasremote "oras.land/oras-go/v2/registry/remote"
	orasauth "oras.land/oras-go/v2/registry/remote/auth"

	"gotk.dev/internal/testing/registry"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/testsign"
)

// TestOCIRepositoryVerifyDistribution verifies signatures on the CNCF distribution registry
// behind htpasswd auth and TLS: the signatures (cosign's `.sig` tag, a cosign 3 bundle and a
// notation signature, both found through the referrers tag schema this registry needs) are
// read with the object's own credentials and CA, and without them verification cannot even
// list them.
func TestOCIRepositoryVerifyDistribution(t *testing.T) {
	t.Parallel()
	const user, password = "signer", "verify-registry-s3cret"
	reg, err := registry.Start(registry.Options{Users: map[string]string{user: password}, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	cfg := dockerConfig(reg.Host(), user, password)
	kc, err := oci.KeychainFromDockerConfigs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := oci.NewClient(oci.ClientOptions{Keychain: kc, TLSConfig: reg.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	ggcrOpts := []remote.Option{remote.WithAuth(&authn.Basic{Username: user, Password: password}),
		remote.WithTransport(&http.Transport{TLSClientConfig: reg.TLSConfig()})}
	key := testsign.NewKey(t)
	sigstore := testsign.NewSigstore(t)
	notary := testsign.NewNotationCA(t, "gotk release")
	identity := testsign.KeylessOptions{Identity: "release@example.com", Issuer: "https://issuer.example"}

	ns := newNamespace(t)
	createSecret(t, ns, "regcred", corev1.SecretTypeDockerConfigJson, map[string][]byte{corev1.DockerConfigJsonKey: cfg})
	createSecret(t, ns, "ca", "", map[string][]byte{"ca.crt": reg.CAPEM()})
	createSecret(t, ns, "cosign", "", map[string][]byte{"release.pub": key.PublicPEM})
	createSecret(t, ns, "trusted-root", "", map[string][]byte{"trusted_root.json": sigstore.TrustedRoot})
	createSecret(t, ns, "notation", "", map[string][]byte{"ca.pem": notary.CAPEM, "trustpolicy.json": testsign.TrustPolicy()})

	for _, tc := range []struct {
		name    string
		sign    func(repo name.Repository, digest string)
		verify  *sourcev1.OCIRepositoryVerification
		anon    bool // no spec.secretRef
		wantErr string
	}{
		{name: "cosign-key", sign: func(r name.Repository, d string) { key.SignLegacy(t, r, d, ggcrOpts...) },
			verify: &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{Provider: "cosign", SecretRef: &meta.LocalObjectReference{Name: "cosign"}}}},
		{name: "cosign-bundle", sign: func(r name.Repository, d string) { sigstore.SignBundle(t, r, d, identity, ggcrOpts...) },
			verify: &sourcev1.OCIRepositoryVerification{
				OCIVerification: sourcev1.OCIVerification{Provider: "cosign", MatchOIDCIdentity: []sourcev1.OIDCIdentityMatch{
					{Issuer: "^https://issuer\\.example$", Subject: "^release@example\\.com$"}}},
				TrustedRootSecretRef: &meta.LocalObjectReference{Name: "trusted-root"}}},
		{name: "notation", sign: func(r name.Repository, d string) {
			notary.SignWith(t, r.Name()+"@"+d, func(repo *orasremote.Repository) {
				repo.Client = &orasauth.Client{
					Client:     &http.Client{Transport: &http.Transport{TLSClientConfig: reg.TLSConfig()}},
					Credential: orasauth.StaticCredential(reg.Host(), orasauth.Credential{Username: user, Password: password}),
				}
			})
		}, verify: &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{Provider: "notation", SecretRef: &meta.LocalObjectReference{Name: "notation"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := "oci://" + reg.Host() + "/signed/" + tc.name
			digest := pushFlux(t, pusher, url+":v1", map[string]string{"app.yaml": tc.name}, oci.PushOptions{})
			repo, err := name.NewRepository(reg.Host() + "/signed/" + tc.name)
			if err != nil {
				t.Fatal(err)
			}
			tc.sign(repo, digest)
			obj := newOCIRepository(ns, tc.name, url, func(o *sourcev1.OCIRepository) {
				o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
				o.Spec.SecretRef = &meta.LocalObjectReference{Name: "regcred"}
				o.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "ca"}
				o.Spec.Verify = tc.verify
			})
			create(t, obj)
			waitRevision(t, obj, "v1@"+digest)
			wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, meta.SucceededReason, "v1@"+digest)
			wantNoSecret(t, obj, password)
		})
	}
}

// TestOCIRepositoryVerifyCached polls a signed tag that does not move: the digest is verified
// once, and later polls neither fetch the signature again nor write the status.
func TestOCIRepositoryVerifyCached(t *testing.T) {
	t.Parallel()
	reg := newCountingRegistry(t)
	c := plainClient(t)
	url := "oci://" + reg.host + "/cached"
	digest := pushFlux(t, c, url+":v1", map[string]string{"app.yaml": "cached"}, oci.PushOptions{})
	repo, err := name.NewRepository(reg.host + "/cached")
	if err != nil {
		t.Fatal(err)
	}
	key := testsign.NewKey(t)
	key.SignLegacy(t, repo, digest)
	ns := newNamespace(t)
	createSecret(t, ns, "cosign", "", map[string][]byte{"cosign.pub": key.PublicPEM})
	obj := newOCIRepository(ns, "cached", url, func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
		o.Spec.Interval = metav1.Duration{Duration: 200 * time.Millisecond}
		o.Spec.Verify = &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{
			Provider: "cosign", SecretRef: &meta.LocalObjectReference{Name: "cosign"}}}
	})
	create(t, obj)
	waitRevision(t, obj, "v1@"+digest)
	wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, meta.SucceededReason, "cosign.pub")

	time.Sleep(300 * time.Millisecond)
	pulls, writes, reads := reg.pulls(), suiteEnv.client.statusWrites(obj), suiteEnv.client.reads(obj)
	time.Sleep(1500 * time.Millisecond)
	if polls := suiteEnv.client.reads(obj) - reads; polls < 2 {
		t.Fatalf("only %d reconciles in 1.5s with a 200ms interval", polls)
	}
	if got := reg.pulls() - pulls; got != 0 {
		t.Errorf("%d manifest or blob downloads while the verified digest did not change, want none", got)
	}
	if got := suiteEnv.client.statusWrites(obj) - writes; got != 0 {
		t.Errorf("%d status writes while nothing changed, want none", got)
	}

	// A new key set is new trust: the digest is verified again, and refused.
	other := testsign.NewKey(t)
	update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cosign"}}, func(s *corev1.Secret) {
		s.Data = map[string][]byte{"other.pub": other.PublicPEM}
	})
	waitFor(t, obj, "SourceVerified=False", func(o *sourcev1.OCIRepository) bool {
		c := reconcile.GetCondition(o, sourcev1.SourceVerifiedCondition)
		return c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "not signed by any of the trusted keys")
	})
}
