package controller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/logcapture"
	"gotk.dev/internal/testing/registry"
	"gotk.dev/pkg/auth/cloud"
)

// TestImageRepositoryCloudProviders scans with spec.provider aws, azure and gcp through the
// controller's workload identity (IRSA -> STS -> ECR, Azure workload identity -> Entra ID ->
// ACR exchange, the GKE metadata server) a real registry that accepts only the credentials
// those logins produce, reached under cloud registry host names. A host the provider cannot
// serve and a refusing cloud each get a clear condition without any credential.
func TestImageRepositoryCloudProviders(t *testing.T) {
	const ecr, acr, gar = "444444444444.dkr.ecr.eu-central-1.amazonaws.com", "gotkimages.azurecr.io", "asia-docker.pkg.dev"
	logMark := suiteEnv.logs.Mark()
	clouds := cloudapi.UseClouds(t)
	secrets := clouds.Secrets
	front := startCloudRegistry(t, clouds, []string{"1.0.0", "1.1.0", "2.0.0"}, ecr, acr, gar)
	front.ACRAccessToken, front.ACRRefreshToken = clouds.EntraID.AccessToken, clouds.ACRRefreshToken

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

	leaks := leakCheck(t, logMark, secrets)
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

	clouds.EntraID.Refuse.Store(true)
	refused := newRepository(t, ns, "azure-refused", "other.azurecr.io/team/app", withProvider("azure"))
	deleteAtEnd(t, wrongHost, refused)
	leaks(waitFor(t, refused, time.Minute, authFailed("provider 'azure'", "controller's workload identity",
		"Microsoft Entra ID ("+clouds.EntraID.URL+")", "AADSTS700213")))
}

// deleteAtEnd deletes objects that keep retrying against a test's clouds once the test is
// over: they would otherwise call the next test's clouds (the environment points there).
func deleteAtEnd(t *testing.T, objs ...*imagev1.ImageRepository) {
	t.Cleanup(func() {
		for _, o := range objs {
			_ = k8s().Delete(context.Background(), o)
		}
	})
}

// authFailed waits for a retried (not stalled) AuthenticationFailed whose message says each
// of want.
func authFailed(want ...string) func(*imagev1.ImageRepository) error {
	return func(r *imagev1.ImageRepository) error {
		c := conditionOf(r, meta.ReadyCondition)
		if c == nil || c.Reason != imagev1.AuthenticationFailedReason || conditionOf(r, meta.StalledCondition) != nil {
			return fmt.Errorf("Ready = %+v, want a retried AuthenticationFailed", c)
		}
		for _, w := range want {
			if !strings.Contains(c.Message, w) {
				return fmt.Errorf("Ready message %q does not say %q", c.Message, w)
			}
		}
		return nil
	}
}

// leakCheck returns a check that no condition or event of an ImageRepository, and no line the
// controllers logged (at trace level) since logMark, shows one of the credentials secrets
// returns (the clouds' and any the test saw issued).
func leakCheck(t *testing.T, logMark logcapture.Mark, secrets func() []string) func(*imagev1.ImageRepository) {
	return func(r *imagev1.ImageRepository) {
		t.Helper()
		suiteEnv.logs.NoSecrets(t, logMark, []string{r.Name}, secrets()...)
		for _, c := range r.Status.Conditions {
			for _, s := range secrets() {
				if strings.Contains(c.Message, s) {
					t.Errorf("condition %s leaks a credential: %q", c.Type, c.Message)
				}
			}
		}
		for _, ev := range suiteEnv.events.Of(imagev1.ImageRepositoryKind, r.Namespace, r.Name, "") {
			for _, s := range secrets() {
				if strings.Contains(ev.Message, s) {
					t.Errorf("event %s leaks a credential: %q", ev.Reason, ev.Message)
				}
			}
		}
	}
}

// TestImageRepositoryObjectLevelIdentity scans as the cloud identity of the object's
// spec.serviceAccountName (the suite runs with the ObjectLevelWorkloadIdentity gate on): the
// controller creates a token for the service account (TokenRequest, the cloud's audience)
// and exchanges it, at STS for the role its eks.amazonaws.com/role-arn annotation names and
// at Entra ID as a federated assertion of its azure.workload.identity/client-id. The fake
// clouds verify the token with the API server (TokenReview) and trust one service account
// per role or client, as a trust policy or federated credential does: another service
// account naming the same role is refused, and one without annotations is told which.
func TestImageRepositoryObjectLevelIdentity(t *testing.T) {
	const ecr, acr, gar = "555555555555.dkr.ecr.eu-west-3.amazonaws.com", "gotktenant.azurecr.io", "europe-west1-docker.pkg.dev"
	logMark := suiteEnv.logs.Mark()
	ns := newNamespace(t, nil)
	// The service account tokens the fake clouds were shown: credentials too.
	var saTokens struct {
		sync.Mutex
		seen []string
	}
	const roleA, clientB = "arn:aws:iam::555555555555:role/team-a", "client-team-b"
	subject := func(sa string) string { return "system:serviceaccount:" + ns + ":" + sa }
	review := cloudapi.TokenReviewer(testCtx(t), k8s())
	verify := func(token, audience string) (string, error) {
		saTokens.Lock()
		saTokens.seen = append(saTokens.seen, token)
		saTokens.Unlock()
		return review(token, audience)
	}
	clouds := cloudapi.UseCloudsWith(t, func(c *cloudapi.Clouds) {
		c.AWSOptions.Verify, c.AWSOptions.RoleSubjects = verify, map[string]string{roleA: subject("team-a")}
		c.EntraIDOptions.Verify, c.EntraIDOptions.FederatedSubjects = verify, map[string]string{clientB: subject("team-b")}
	})
	front := startCloudRegistry(t, clouds, []string{"1.0.0", "2.0.0"}, ecr, acr, gar)
	// GKE workload identity: team-c's token is exchanged at Google's STS for the cluster's
	// pool, then impersonates team-c's Google service account; the token it gets is the
	// registry's oauth2accesstoken password.
	const gsaC = "team-c@gotk-test.iam.gserviceaccount.com"
	google := cloudapi.StartGoogleIAM(t, cloudapi.GoogleIAMOptions{Verify: verify, Pool: "gotk-test.svc.id.goog",
		ServiceAccountSubjects: map[string]string{gsaC: subject("team-c")}, AccessToken: clouds.Metadata.Token})
	front.ACRAccessToken, front.ACRRefreshToken = clouds.EntraID.AccessToken, clouds.ACRRefreshToken

	for name, ann := range map[string]map[string]string{
		"team-a":   {cloud.AnnotationAWSRoleARN: roleA},
		"team-b":   {cloud.AnnotationAzureClientID: clientB, cloud.AnnotationAzureTenantID: clouds.EntraIDOptions.TenantID},
		"intruder": {cloud.AnnotationAWSRoleARN: roleA},
		"plain":    nil,
		"team-c":   {cloud.AnnotationGCPServiceAcct: gsaC},
		"gcp-mole": {cloud.AnnotationGCPServiceAcct: gsaC},
	} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann}}
		if err := k8s().Create(testCtx(t), sa); err != nil {
			t.Fatal(err)
		}
	}
	ca := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cloud-ca"}, Data: map[string][]byte{"ca.crt": front.CAPEM}}
	if err := k8s().Create(testCtx(t), ca); err != nil {
		t.Fatal(err)
	}
	as := func(provider, sa string) func(*imagev1.ImageRepository) {
		return func(r *imagev1.ImageRepository) {
			r.Spec.Provider, r.Spec.ServiceAccountName = provider, sa
			r.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "cloud-ca"}
		}
	}
	scanned := func(r *imagev1.ImageRepository) error {
		if err := readyIs[*imagev1.ImageRepository](metav1.ConditionTrue, meta.SucceededReason)(r); err != nil {
			return err
		}
		if res := r.Status.LastScanResult; res == nil || res.TagCount != 2 {
			return fmt.Errorf("last scan result = %+v, want 2 tags", res)
		}
		return nil
	}
	waitFor(t, newRepository(t, ns, "team-a", ecr+"/team/app", as("aws", "team-a")), time.Minute, scanned)
	waitFor(t, newRepository(t, ns, "team-b", acr+"/team/app", as("azure", "team-b")), time.Minute, scanned)
	waitFor(t, newRepository(t, ns, "team-c", gar+"/team/app", as("gcp", "team-c")), time.Minute, scanned)
	if c := google.Counts(); c.GoogleSTS != 1 || c.GoogleIAM != 1 {
		t.Errorf("team-c's token must be exchanged once and its Google service account impersonated once: %+v", c)
	}
	if c := clouds.Metadata.Counts(); c.Metadata != 0 {
		t.Errorf("the controller's own Google token was asked for %d times", c.Metadata)
	}
	if c := clouds.AWS.Counts(); c.STS != 1 || c.ECR != 1 {
		t.Errorf("team-a's role must be assumed once: %+v", c)
	}
	if c := clouds.EntraID.Counts(); c.EntraID != 1 {
		t.Errorf("team-b's client must get one Entra ID token: %+v", c)
	}

	leaks := leakCheck(t, logMark, func() []string {
		saTokens.Lock()
		defer saTokens.Unlock()
		if len(saTokens.seen) == 0 {
			t.Error("the fake clouds saw no service account token")
		}
		return append(clouds.Secrets(), saTokens.seen...)
	})
	intruder := newRepository(t, ns, "intruder", ecr+"/team/app", as("aws", "intruder"))
	leaks(waitFor(t, intruder, time.Minute, authFailed("provider 'aws'", "service account '"+ns+"/intruder' (role "+roleA+")",
		"AssumeRoleWithWebIdentity", "AccessDenied")))
	plain := newRepository(t, ns, "plain", acr+"/team/app", as("azure", "plain"))
	deleteAtEnd(t, intruder, plain)
	leaks(waitFor(t, plain, time.Minute, authFailed("service account '"+ns+"/plain'", cloud.AnnotationAzureClientID)))
	mole := newRepository(t, ns, "gcp-mole", gar+"/team/app", as("gcp", "gcp-mole"))
	deleteAtEnd(t, mole)
	leaks(waitFor(t, mole, time.Minute, authFailed("provider 'gcp'", "service account '"+ns+"/gcp-mole' (Google service account "+gsaC+")",
		"generateAccessToken", "PERMISSION_DENIED")))
}

// startCloudRegistry starts a registry that accepts only the credentials the fake clouds
// issue, behind a TLS front answering as hosts, with team/app's tags pushed.
func startCloudRegistry(t *testing.T, clouds *cloudapi.Clouds, tags []string, hosts ...string) *cloudapi.Front {
	t.Helper()
	reg, err := registry.Start(registry.Options{Users: clouds.RegistryUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	front := cloudapi.StartFront(t, "http://"+reg.Host(), hosts...)
	pushTags(t, reg.Host(), "team/app", &authn.Basic{Username: "AWS", Password: clouds.RegistryUsers()["AWS"]}, tags...)
	return front
}
