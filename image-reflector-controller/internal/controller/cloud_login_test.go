package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/registry"
)

// TestImageRepositoryCloudProviders scans with spec.provider aws, azure and gcp through the
// controller's workload identity (IRSA -> STS -> ECR, Azure workload identity -> Entra ID ->
// ACR exchange, the GKE metadata server) a real registry that accepts only the credentials
// those logins produce, reached under cloud registry host names. A host the provider cannot
// serve, spec.serviceAccountName without the ObjectLevelWorkloadIdentity gate and a
// refusing cloud each get a clear condition without any credential.
func TestImageRepositoryCloudProviders(t *testing.T) {
	const ecr, acr, gar = "444444444444.dkr.ecr.eu-central-1.amazonaws.com", "gotkimages.azurecr.io", "asia-docker.pkg.dev"
	clouds := cloudapi.UseClouds(t)
	reg, err := registry.Start(registry.Options{Users: clouds.RegistryUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	front := cloudapi.StartFront(t, "http://"+reg.Host(), ecr, acr, gar)
	front.ACRAccessToken, front.ACRRefreshToken = clouds.EntraID.AccessToken, clouds.ACRRefreshToken
	pushTags(t, reg.Host(), "team/app", &authn.Basic{Username: "AWS", Password: clouds.RegistryUsers()["AWS"]}, "1.0.0", "1.1.0", "2.0.0")

	ns := newNamespace(t, nil)
	ca := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cloud-ca"}, Data: map[string][]byte{"ca.crt": front.CAPEM}}
	if err := k8s().Create(testCtx(t), ca); err != nil {
		t.Fatal(err)
	}
	withProvider := func(p string) func(*imagev1.ImageRepository) {
		return func(r *imagev1.ImageRepository) {
			r.Spec.Provider = p
			r.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "cloud-ca"}
		}
	}
	scanned := func(r *imagev1.ImageRepository) error {
		if err := readyIs[*imagev1.ImageRepository](metav1.ConditionTrue, meta.SucceededReason)(r); err != nil {
			return err
		}
		if res := r.Status.LastScanResult; res == nil || res.TagCount != 3 {
			return fmt.Errorf("last scan result = %+v, want 3 tags", res)
		}
		return nil
	}
	for _, tc := range []struct{ provider, host string }{{"aws", ecr}, {"azure", acr}, {"gcp", gar}} {
		r := newRepository(t, ns, tc.provider, tc.host+"/team/app", withProvider(tc.provider))
		waitFor(t, r, time.Minute, scanned)
	}
	if c := clouds.AWS.Counts(); c.ECR != 1 {
		t.Errorf("ECR logins = %d, want 1 (cached afterwards)", c.ECR)
	}

	leaks := func(r *imagev1.ImageRepository) {
		t.Helper()
		for _, c := range r.Status.Conditions {
			for _, s := range clouds.Secrets() {
				if strings.Contains(c.Message, s) {
					t.Errorf("condition %s leaks a credential: %q", c.Type, c.Message)
				}
			}
		}
		for _, ev := range suiteEnv.events.Of(imagev1.ImageRepositoryKind, r.Namespace, r.Name, "") {
			for _, s := range clouds.Secrets() {
				if strings.Contains(ev.Message, s) {
					t.Errorf("event %s leaks a credential: %q", ev.Reason, ev.Message)
				}
			}
		}
	}
	stalled := func(reason, msg string) func(*imagev1.ImageRepository) error {
		return func(r *imagev1.ImageRepository) error {
			if c := conditionOf(r, meta.StalledCondition); c == nil || c.Reason != reason || !strings.Contains(c.Message, msg) {
				return fmt.Errorf("Stalled = %+v, want %s with %q", c, reason, msg)
			}
			return nil
		}
	}
	wrongHost := newRepository(t, ns, "gcp-on-ecr", ecr+"/team/app", withProvider("gcp"))
	leaks(waitFor(t, wrongHost, time.Minute, stalled(InvalidProviderConfigurationReason, "provider 'gcp' cannot log in to registry '"+ecr+"'")))

	withSA := newRepository(t, ns, "azure-with-sa", acr+"/team/app", withProvider("azure"), func(r *imagev1.ImageRepository) {
		r.Spec.ServiceAccountName = "tenant"
	})
	leaks(waitFor(t, withSA, time.Minute, stalled(meta.FeatureGateDisabledReason, "ObjectLevelWorkloadIdentity feature gate")))

	clouds.EntraID.Refuse.Store(true)
	refused := newRepository(t, ns, "azure-refused", "other.azurecr.io/team/app", withProvider("azure"))
	leaks(waitFor(t, refused, time.Minute, func(r *imagev1.ImageRepository) error {
		c := conditionOf(r, meta.ReadyCondition)
		if c == nil || c.Reason != imagev1.AuthenticationFailedReason || conditionOf(r, meta.StalledCondition) != nil {
			return fmt.Errorf("Ready = %+v, want a retried AuthenticationFailed", c)
		}
		for _, want := range []string{"provider 'azure'", "controller's workload identity", "Microsoft Entra ID (" + clouds.EntraID.URL + ")", "AADSTS700213"} {
			if !strings.Contains(c.Message, want) {
				return fmt.Errorf("Ready message %q does not say %q", c.Message, want)
			}
		}
		return nil
	}))
}
