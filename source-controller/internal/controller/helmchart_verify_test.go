package controller

import (
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	helmreg "helm.sh/helm/v3/pkg/registry"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/helmrepo"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/testsign"
)

// TestHelmChartVerify pulls charts pushed with helm to a registry through an OCI
// HelmRepository with spec.verify: signed charts are stored with SourceVerified=True, an
// unsigned chart or one signed by an untrusted key is not stored, and verification of a chart
// that does not come from a registry stalls with the reason.
func TestHelmChartVerify(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	charts := map[string]string{}
	for _, chartName := range []string{"signed", "unsigned", "wrong-key", "notation"} {
		helmrepo.PushChart(t, reg.Host(), "charts", helmrepo.Package(t, helmrepo.PodinfoDir(), chartName, "1.0.0"), helmreg.ClientOptPlainHTTP())
		ref, err := name.ParseReference(reg.Host() + "/charts/" + chartName + ":1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		d, err := remote.Head(ref)
		if err != nil {
			t.Fatal(err)
		}
		charts[chartName] = d.Digest.String()
	}
	repoOf := func(chartName string) name.Repository {
		r, err := name.NewRepository(reg.Host() + "/charts/" + chartName)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	key, otherKey := testsign.NewKey(t), testsign.NewKey(t)
	key.SignLegacy(t, repoOf("signed"), charts["signed"])
	otherKey.SignLegacy(t, repoOf("wrong-key"), charts["wrong-key"])
	notary := testsign.NewNotationCA(t, "chart signer")
	notary.Sign(t, reg.Host()+"/charts/notation@"+charts["notation"])

	ns := newNamespace(t)
	createSecret(t, ns, "cosign", "", map[string][]byte{"cosign.pub": key.PublicPEM})
	createSecret(t, ns, "notation", "", map[string][]byte{"ca.pem": notary.CAPEM, "trustpolicy.json": testsign.TrustPolicy()})
	create(t, newHelmRepository(ns, "oci", "oci://"+reg.Host()+"/charts", func(o *sourcev1.HelmRepository) {
		o.Spec.Type = sourcev1.HelmRepositoryTypeOCI
		o.Spec.Insecure = true
	}))
	cosign := &sourcev1.OCIVerification{Provider: "cosign", SecretRef: &meta.LocalObjectReference{Name: "cosign"}}
	for _, tc := range []struct {
		chart   string
		verify  *sourcev1.OCIVerification
		wantErr []string
	}{
		{chart: "signed", verify: cosign},
		{chart: "unsigned", verify: cosign, wantErr: []string{"no signature found"}},
		{chart: "wrong-key", verify: cosign, wantErr: []string{"not signed by any of the trusted keys"}},
		{chart: "notation", verify: &sourcev1.OCIVerification{Provider: "notation", SecretRef: &meta.LocalObjectReference{Name: "notation"}}},
	} {
		t.Run(tc.chart, func(t *testing.T) {
			t.Parallel()
			obj := newHelmChart(ns, tc.chart, sourcev1.HelmRepositoryKind, "oci", tc.chart, func(o *sourcev1.HelmChart) { o.Spec.Verify = tc.verify })
			create(t, obj)
			if tc.wantErr == nil {
				waitRevision(t, obj, "1.0.0")
				wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, meta.SucceededReason, charts[tc.chart])
				return
			}
			waitNotReady(t, obj, sourcev1.VerificationError)
			wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationError, tc.wantErr...)
			if obj.Status.Artifact != nil {
				t.Fatalf("chart stored although its signature did not verify: %+v", obj.Status.Artifact)
			}
		})
	}

	t.Run("not-from-a-registry", func(t *testing.T) {
		t.Parallel()
		http := podinfoRepo(t, helmrepo.Options{}, "6.0.0")
		readyHelmRepository(t, ns, "http", http.URL, nil)
		obj := newHelmChart(ns, "from-http", sourcev1.HelmRepositoryKind, "http", "podinfo", func(o *sourcev1.HelmChart) { o.Spec.Verify = cosign })
		create(t, obj)
		waitNotReady(t, obj, sourcev1.VerificationError)
		wantCondition(t, obj, meta.StalledCondition, metav1.ConditionTrue, sourcev1.VerificationError)
		wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationError, "only supported for charts of an OCI HelmRepository")
	})
}
