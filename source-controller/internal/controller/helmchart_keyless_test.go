package controller

import (
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	helmreg "helm.sh/helm/v3/pkg/registry"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/testsign"
)

// TestHelmChartVerifyKeyless verifies OCI charts signed keyless on a private Sigstore, with
// no network: HelmChart's spec.verify has no trustedRootSecretRef (as upstream), so the
// root is the controller's own, configured through cosign's SIGSTORE_ROOT_FILE and
// SIGSTORE_REKOR_PUBLIC_KEY (the suite's). A chart signed by an accepted identity is stored
// with SourceVerified=True; a signature of another identity, an unsigned chart, an expired
// certificate and another Sigstore's signature are refused with the reason and nothing is
// stored.
func TestHelmChartVerifyKeyless(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	other := testsign.NewSigstore(t)
	ci := testsign.KeylessOptions{Identity: "ci@example.com", Issuer: "https://issuer.example"}
	for _, tc := range []struct {
		chart   string
		sign    func(r name.Repository, digest string)
		wantErr []string
	}{
		{chart: "keyless", sign: func(r name.Repository, d string) { suiteEnv.sigstore.SignLegacy(t, r, d, ci) }},
		{chart: "keyless-bundle", sign: func(r name.Repository, d string) { suiteEnv.sigstore.SignBundle(t, r, d, ci) }},
		{chart: "keyless-wrong-identity", sign: func(r name.Repository, d string) {
			suiteEnv.sigstore.SignLegacy(t, r, d, testsign.KeylessOptions{Identity: "mallory@example.com", Issuer: ci.Issuer})
		}, wantErr: []string{"mallory@example.com", "no matching CertificateIdentity", `subject=~"^ci@example\\.com$"`}},
		{chart: "keyless-unsigned", wantErr: []string{"cosign keyless: no signature found"}},
		{chart: "keyless-expired", sign: func(r name.Repository, d string) {
			suiteEnv.sigstore.SignLegacy(t, r, d, testsign.KeylessOptions{Identity: ci.Identity, Issuer: ci.Issuer, LoggedAt: time.Now().Add(30 * time.Minute)})
		}, wantErr: []string{"certificate"}},
		{chart: "keyless-other-sigstore", sign: func(r name.Repository, d string) { other.SignLegacy(t, r, d, ci) },
			wantErr: []string{"none of the 1 signature(s)"}},
	} {
		helmrepo.PushChart(t, reg.Host(), "charts", helmrepo.Package(t, helmrepo.PodinfoDir(), tc.chart, "1.0.0"), helmreg.ClientOptPlainHTTP())
		repo, err := name.NewRepository(reg.Host() + "/charts/" + tc.chart)
		if err != nil {
			t.Fatal(err)
		}
		d, err := remote.Head(repo.Tag("1.0.0"))
		if err != nil {
			t.Fatal(err)
		}
		if tc.sign != nil {
			tc.sign(repo, d.Digest.String())
		}
	}

	ns := newNamespace(t)
	create(t, newHelmRepository(ns, "oci", "oci://"+reg.Host()+"/charts", func(o *sourcev1.HelmRepository) {
		o.Spec.Type = sourcev1.HelmRepositoryTypeOCI
		o.Spec.Insecure = true
	}))
	verify := &sourcev1.OCIVerification{Provider: "cosign",
		MatchOIDCIdentity: []sourcev1.OIDCIdentityMatch{{Issuer: `^https://issuer\.example$`, Subject: `^ci@example\.com$`}}}
	for _, tc := range []struct {
		chart   string
		wantErr []string
	}{
		{chart: "keyless"},
		{chart: "keyless-bundle"},
		{chart: "keyless-wrong-identity", wantErr: []string{"mallory@example.com", `subject=~"^ci@example\\.com$"`}},
		{chart: "keyless-unsigned", wantErr: []string{"cosign keyless: no signature found"}},
		{chart: "keyless-expired", wantErr: []string{"certificate"}},
		{chart: "keyless-other-sigstore", wantErr: []string{"none of the 1 signature(s)"}},
	} {
		t.Run(tc.chart, func(t *testing.T) {
			t.Parallel()
			obj := newHelmChart(ns, tc.chart, sourcev1.HelmRepositoryKind, "oci", tc.chart, func(o *sourcev1.HelmChart) { o.Spec.Verify = verify })
			create(t, obj)
			if tc.wantErr == nil {
				waitRevision(t, obj, "1.0.0")
				wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, meta.SucceededReason, "ci@example.com", "https://issuer.example")
				if obj.Status.Artifact == nil {
					t.Fatal("verified chart has no artifact")
				}
				return
			}
			waitNotReady(t, obj, sourcev1.VerificationError)
			wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationError,
				append([]string{"failed to verify the signature of chart " + tc.chart + " version 1.0.0"}, tc.wantErr...)...)
			wantNoCondition(t, obj, meta.StalledCondition)
			if obj.Status.Artifact != nil {
				t.Fatalf("chart stored although its signature did not verify: %+v", obj.Status.Artifact)
			}
		})
	}
}

// TestOCIRepositoryVerifyKeylessControllerRoot: an OCIRepository without
// spec.verify.trustedRootSecretRef verifies against the controller's private Sigstore, and one
// with it against its own root only (a signature the controller's root would accept is
// refused when the object trusts another Sigstore).
func TestOCIRepositoryVerifyKeylessControllerRoot(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := plainClient(t)
	ci := testsign.KeylessOptions{Identity: "ci@example.com", Issuer: "https://issuer.example"}
	other := testsign.NewSigstore(t)
	ns := newNamespace(t)
	createSecret(t, ns, "other-root", "", map[string][]byte{"trusted_root.json": other.TrustedRoot})
	for _, tc := range []struct {
		name       string
		secretRoot bool
		wantErr    string
	}{
		{name: "controller-root"},
		{name: "object-root-wins", secretRoot: true, wantErr: "none of the 1 signature(s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			digest := pushFlux(t, c, reg.URL("keyless/"+tc.name)+":v1", map[string]string{"app.yaml": tc.name}, oci.PushOptions{})
			repo, err := name.NewRepository(reg.Host() + "/keyless/" + tc.name)
			if err != nil {
				t.Fatal(err)
			}
			suiteEnv.sigstore.SignLegacy(t, repo, digest, ci)
			obj := newOCIRepository(ns, tc.name, reg.URL("keyless/"+tc.name), func(o *sourcev1.OCIRepository) {
				o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
				o.Spec.Verify = &sourcev1.OCIRepositoryVerification{OCIVerification: sourcev1.OCIVerification{Provider: "cosign",
					MatchOIDCIdentity: []sourcev1.OIDCIdentityMatch{{Issuer: ".*", Subject: `^ci@example\.com$`}}}}
				if tc.secretRoot {
					o.Spec.Verify.TrustedRootSecretRef = &meta.LocalObjectReference{Name: "other-root"}
				}
			})
			create(t, obj)
			if tc.wantErr == "" {
				waitReady(t, obj)
				wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, meta.SucceededReason, "ci@example.com")
				return
			}
			waitNotReady(t, obj, sourcev1.VerificationError)
			wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationError, tc.wantErr)
			if obj.Status.Artifact != nil {
				t.Fatalf("artifact stored for an unverified digest: %+v", obj.Status.Artifact)
			}
		})
	}
}
