package controller

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/azurite"
	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestBucketObjectLevelIdentity reads buckets of the three clouds as the service account
// each Bucket names (the suite runs Buckets with the ObjectLevelWorkloadIdentity gate):
//   - aws: versitygw, whose only credentials are those the fake STS issues for
//     AssumeRoleWithWebIdentity of team-a's token for its role;
//   - azure: Azurite behind a front passing only the Entra ID token issued for team-b's
//     federated client assertion;
//   - gcp: fake-gcs-server behind a front passing only the token of the Google service
//     account team-c impersonates after exchanging its token for a workload identity
//     provider outside GKE (gcp.auth.fluxcd.io/workload-identity-provider).
//
// The fake clouds verify the service account tokens with a real TokenReview and trust one
// service account each. The controller's own identities are configured and would be
// accepted (its IRSA role and Azure client get the same keys and token), so a fallback to
// them would make the refusals below pass silently: an intruder naming team-a's role and an
// account without annotations must fail, naming the identity and the endpoint, without a
// token in status or events.
func TestBucketObjectLevelIdentity(t *testing.T) {
	ns := newNamespace(t)
	s3 := startS3(t, ns)
	putObjects(t, s3, "team-a", map[string]string{"deploy/a.yaml": "team: a\n"})
	const roleA, clientB = "arn:aws:iam::111111111111:role/team-a", "client-team-b"
	subject := func(sa string) string { return "system:serviceaccount:" + ns + ":" + sa }
	verify := cloudapi.TokenReviewer(context.Background(), suiteEnv.env.Client)
	clouds := cloudapi.UseCloudsWith(t, func(c *cloudapi.Clouds) {
		c.AWSOptions.Verify, c.AWSOptions.RoleSubjects = verify, map[string]string{roleA: subject("team-a")}
		c.AWSOptions.AccessKeyID, c.AWSOptions.SecretAccessKey = s3.AccessKey(), s3.SecretKey()
		c.EntraIDOptions.Verify, c.EntraIDOptions.FederatedSubjects = verify, map[string]string{clientB: subject("team-b")}
	})
	const wip = "projects/222222222222/locations/global/workloadIdentityPools/flux/providers/kind-cluster"
	const gsaC = "team-c@gotk-test.iam.gserviceaccount.com"
	gcsToken := cloudapi.Secret("ya29.team-c-")
	google := cloudapi.StartGoogleIAM(t, cloudapi.GoogleIAMOptions{Verify: verify, Providers: []string{wip},
		ServiceAccountSubjects: map[string]string{gsaC: subject("team-c")}, AccessToken: gcsToken})

	azFront := startAzureBehindBearer(t, "team-b", map[string]string{"deploy/b.yaml": "team: b\n"}, clouds.EntraID.AccessToken)
	gcsFront := startGCSBehindBearer(t, "team-c", map[string]string{"deploy/c.yaml": "team: c\n"}, gcsToken)

	for name, ann := range map[string]map[string]string{
		"team-a":   {cloud.AnnotationAWSRoleARN: roleA},
		"team-b":   {cloud.AnnotationAzureClientID: clientB, cloud.AnnotationAzureTenantID: clouds.EntraIDOptions.TenantID},
		"team-c":   {cloud.AnnotationGCPWorkloadIdentityProvider: wip, cloud.AnnotationGCPServiceAcct: gsaC},
		"intruder": {cloud.AnnotationAWSRoleARN: roleA},
		"plain":    nil,
		"bad-wip":  {cloud.AnnotationGCPWorkloadIdentityProvider: "//iam.googleapis.com/" + wip},
	} {
		create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann}})
	}
	bucket := func(name, provider, bucketName, endpoint, sa string, mutate ...func(*sourcev1.Bucket)) *sourcev1.Bucket {
		obj := &sourcev1.Bucket{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: sourcev1.BucketSpec{
				Provider: provider, BucketName: bucketName, Endpoint: endpoint, Insecure: true, ServiceAccountName: sa,
				Interval: metav1.Duration{Duration: time.Hour}, Timeout: &metav1.Duration{Duration: 30 * time.Second},
			},
		}
		if provider == sourcev1.BucketProviderAmazon {
			obj.Spec.Region = s3.Region()
			obj.Spec.STS = &sourcev1.BucketSTSSpec{Provider: sourcev1.STSProviderAmazon, Endpoint: clouds.AWS.URL}
		}
		for _, m := range mutate {
			m(obj)
		}
		create(t, obj)
		return obj
	}

	teamA := bucket("team-a", sourcev1.BucketProviderAmazon, "team-a", s3.Endpoint(), "team-a")
	teamB := bucket("team-b", sourcev1.BucketProviderAzure, "team-b", azFront.URL+"/"+azurite.AccountName, "team-b")
	teamC := bucket("team-c", sourcev1.BucketProviderGoogle, "team-c", strings.TrimPrefix(gcsFront.URL, "http://"), "team-c")
	for obj, want := range map[*sourcev1.Bucket]string{teamA: "deploy/a.yaml", teamB: "deploy/b.yaml", teamC: "deploy/c.yaml"} {
		waitReady(t, obj)
		if _, ok := artifactFiles(t, obj)[want]; !ok {
			t.Errorf("%s: artifact misses %s", obj.Name, want)
		}
	}
	// Another reconcile of each reuses the cached credentials.
	for _, obj := range []*sourcev1.Bucket{teamA, teamB, teamC} {
		token := requestReconcile(t, obj)
		waitFor(t, obj, "reconcile request handled", func(o *sourcev1.Bucket) bool {
			return o.Status.LastHandledReconcileAt == token && reconcile.IsReady(o)
		})
	}
	if c := clouds.AWS.Counts(); c.STS != 1 {
		t.Errorf("team-a's role must be assumed once (cached afterwards): %+v", c)
	}
	if c := clouds.EntraID.Counts(); c.EntraID != 1 {
		t.Errorf("team-b's client must get one Entra ID token (cached afterwards): %+v", c)
	}
	if got := clouds.EntraID.Scopes; len(got) != 1 || !strings.HasPrefix(got[0], "https://storage.azure.com/.default") {
		t.Errorf("Entra ID scopes = %q, want Azure Storage's", got)
	}
	if c := google.Counts(); c.GoogleSTS != 1 || c.GoogleIAM != 1 {
		t.Errorf("team-c's token must be exchanged once and its Google service account impersonated once: %+v", c)
	}
	if c := clouds.Metadata.Counts(); c.Metadata != 0 {
		t.Errorf("the controller's own Google identity was asked %d times", c.Metadata)
	}
	if azFront.Refused.Load() != 0 || gcsFront.Refused.Load() != 0 {
		t.Errorf("the storage fronts refused %d (azure) and %d (gcs) requests", azFront.Refused.Load(), gcsFront.Refused.Load())
	}

	// spec.proxySecretRef carries the STS exchange too: through a proxy refusing the
	// Bucket's proxy credentials STS is never reached; through the right ones it is, once
	// more (the credentials are cached per proxy).
	proxy := gitserver.NewProxy(t, gitserver.ProxyOptions{Username: "flux", Password: "proxy-password"})
	createSecret(t, ns, "proxy", "", map[string][]byte{"address": []byte(proxy.URL()), "username": []byte("flux"), "password": []byte("proxy-password")})
	createSecret(t, ns, "wrong-proxy", "", map[string][]byte{"address": []byte(proxy.URL()), "username": []byte("flux"), "password": []byte("guess")})
	viaProxy := func(secret string) func(*sourcev1.Bucket) {
		return func(o *sourcev1.Bucket) { o.Spec.ProxySecretRef = &metaRef{Name: secret} }
	}
	stsBefore := clouds.AWS.Counts().STS
	refused := bucket("wrong-proxy", sourcev1.BucketProviderAmazon, "team-a", s3.Endpoint(), "team-a", viaProxy("wrong-proxy"))
	waitFor(t, refused, "Ready=False", func(o *sourcev1.Bucket) bool {
		c := reconcile.GetCondition(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.ObservedGeneration == o.Generation && c.Reason != meta.ProgressingReason
	})
	if c := clouds.AWS.Counts(); c.STS != stsBefore || proxy.Denied() == 0 {
		t.Errorf("the STS exchange bypassed spec.proxySecretRef's proxy (STS calls %d -> %d, proxy denied %d)", stsBefore, c.STS, proxy.Denied())
	}
	proxied := bucket("proxied", sourcev1.BucketProviderAmazon, "team-a", s3.Endpoint(), "team-a", viaProxy("proxy"))
	waitReady(t, proxied)
	if c := clouds.AWS.Counts(); c.STS != stsBefore+1 {
		t.Errorf("STS calls through the proxy = %d, want 1", c.STS-stsBefore)
	}

	secrets := append(clouds.Secrets(), gcsToken, s3.SecretKey(), "eyJ", "proxy-password")
	leaks := func(obj *sourcev1.Bucket) {
		t.Helper()
		wantNoSecret(t, obj, secrets...)
		for _, ev := range suiteEnv.events.Of(sourcev1.BucketKind, obj.Namespace, obj.Name, "") {
			for _, s := range secrets {
				if strings.Contains(ev.Message, s) {
					t.Errorf("event %s leaks a credential: %q", ev.Reason, ev.Message)
				}
			}
		}
	}
	leaks(teamA)
	leaks(refused)

	// Another service account naming team-a's role: STS refuses it, the controller's own
	// IRSA identity (trusted for the same keys) is not tried.
	intruder := bucket("intruder", sourcev1.BucketProviderAmazon, "team-a", s3.Endpoint(), "intruder")
	waitNotReady(t, intruder, sourcev1.AuthenticationFailedReason)
	wantCondition(t, intruder, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.AuthenticationFailedReason,
		"bucket 'team-a' at "+s3.Endpoint(), "provider 'aws'", "storage credentials", "service account '"+ns+"/intruder' (role "+roleA+")",
		"STS AssumeRoleWithWebIdentity", strings.TrimPrefix(clouds.AWS.URL, "http://"), "AccessDenied")
	wantNoCondition(t, intruder, meta.StalledCondition)
	leaks(intruder)

	// No annotation: told which, the controller's own Azure identity is not tried.
	plain := bucket("plain", sourcev1.BucketProviderAzure, "team-b", azFront.URL+"/"+azurite.AccountName, "plain")
	waitNotReady(t, plain, sourcev1.AuthenticationFailedReason)
	wantCondition(t, plain, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.AuthenticationFailedReason,
		"provider 'azure'", "service account '"+ns+"/plain'", cloud.AnnotationAzureClientID)
	leaks(plain)

	badWIP := bucket("bad-wip", sourcev1.BucketProviderGoogle, "team-c", strings.TrimPrefix(gcsFront.URL, "http://"), "bad-wip")
	waitNotReady(t, badWIP, sourcev1.AuthenticationFailedReason)
	wantCondition(t, badWIP, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.AuthenticationFailedReason,
		"provider 'gcp'", "service account '"+ns+"/bad-wip'", "invalid '"+cloud.AnnotationGCPWorkloadIdentityProvider+"' annotation")
	leaks(badWIP)
	if c := clouds.EntraID.Counts(); c.EntraID != 1 {
		t.Errorf("the controller's own Azure identity was used: %+v", c)
	}
}

// startAzureBehindBearer serves container with files on Azurite behind a front that passes
// only requests bearing token, authenticating them to Azurite with a container SAS.
func startAzureBehindBearer(t *testing.T, container string, files map[string]string, token string) *cloudapi.BearerFront {
	t.Helper()
	az, err := azurite.Start(azurite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	if _, err := az.PutBlobs(context.Background(), container, files); err != nil {
		t.Fatal(err)
	}
	key, err := azblob.NewSharedKeyCredential(azurite.AccountName, azurite.AccountKey)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: time.Now().Add(-time.Hour).UTC(), ExpiryTime: time.Now().Add(time.Hour).UTC(),
		Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String(), ContainerName: container,
	}.SignWithSharedKey(key)
	if err != nil {
		t.Fatal(err)
	}
	front := cloudapi.StartBearerFront(t, "http://"+az.Host(), func(got string) bool { return got == token })
	front.Rewrite = func(r *http.Request) {
		if r.URL.RawQuery != "" {
			r.URL.RawQuery += "&"
		}
		r.URL.RawQuery += q.Encode()
	}
	return front
}

// startGCSBehindBearer serves bucket with files on fake-gcs-server behind a front that passes
// only requests bearing token.
func startGCSBehindBearer(t *testing.T, bucket string, files map[string]string, token string) *cloudapi.BearerFront {
	t.Helper()
	var objects []fakestorage.Object
	for k, v := range files {
		objects = append(objects, fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: k}, Content: []byte(v)})
	}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{InitialObjects: objects, Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return cloudapi.StartBearerFront(t, srv.URL(), func(got string) bool { return got == token })
}

// TestBucketServiceAccountNeedsGate: without the ObjectLevelWorkloadIdentity gate (no cloud
// logins, or logins with the gate off and a default service account) a Bucket naming a
// service account stalls FeatureGateDisabled with upstream's message before anything is
// asked of a cloud, and FetchFailed says the same.
func TestBucketServiceAccountNeedsGate(t *testing.T) {
	for name, logins := range map[string]*cloud.Logins{"no logins": nil, "gate off": {DefaultServiceAccount: "default"}} {
		t.Run(name, func(t *testing.T) {
			r := &BucketReconciler{BucketConfig: BucketConfig{CloudLogins: logins}}
			obj := &sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b", Generation: 1}, Spec: sourcev1.BucketSpec{
				Provider: sourcev1.BucketProviderAmazon, BucketName: "b", Endpoint: "s3.amazonaws.com", ServiceAccountName: "team"}}
			_, err := r.reconcileSource(context.Background(), &bucketScope{obj: obj})
			var stall *reconcile.Stalling
			if !errors.As(err, &stall) || stall.Reason != meta.FeatureGateDisabledReason {
				t.Fatalf("want a FeatureGateDisabled stall, got %v", err)
			}
			wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, meta.FeatureGateDisabledReason,
				"to use spec.serviceAccountName for provider authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller")
		})
	}
}
