package controller

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/getsops/sops/v3/azkv"
	"github.com/getsops/sops/v3/gcpkms"
	"github.com/getsops/sops/v3/kms"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/azurekvapi"
	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/gcpkmsapi"
	"gotk.dev/internal/testing/kmsserver"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/reconcile"
)

// TestDecryptionObjectLevelIdentity decrypts SOPS documents with the cloud identity of
// spec.decryption.serviceAccountName (or --default-decryption-service-account) with the
// ObjectLevelWorkloadIdentity gate on, against the real API server (service accounts,
// TokenRequest, TokenReview), the real local-kms for AWS KMS with a test STS, and the Key
// Vault test server for Azure. The clouds trust one service account per role or client, as
// a trust policy or federated credential does: another service account naming the same role
// is refused, and the controller's own identity (static AWS credentials in its environment,
// which local-kms would accept) is never used instead. Not parallel: the endpoints are
// process environment, as they are for a controller.
func TestDecryptionObjectLevelIdentity(t *testing.T) {
	ns := newNamespace(t)
	subject := func(sa string) string { return "system:serviceaccount:" + ns + ":" + sa }
	reviewed := cloudapi.TokenReviewer(testCtx(t), k8s())
	const roleARN, clientID = "arn:aws:iam::111111111111:role/team-kms", "client-team-kms"

	cloudapi.IsolateEnv(t)
	kmsSrv := kmsserver.Start(t)
	sts := cloudapi.StartAWS(t, cloudapi.AWSOptions{Verify: reviewed, RoleSubjects: map[string]string{roleARN: subject("team-aws")}})
	kv := azurekvapi.Start(t)
	kv.AddFederatedVerifier(clientID, func(token string) bool {
		sub, err := reviewed(token, cloud.AudienceAzure)
		return err == nil && sub == subject("team-az")
	})
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	t.Setenv("AWS_ENDPOINT_URL_KMS", kmsSrv.Endpoint())
	t.Setenv("AWS_REGION", kmsserver.Region)
	t.Setenv("AZURE_AUTHORITY_HOST", kv.AuthorityHost())
	// The controller's own identity: it would decrypt, so using it would pass unnoticed.
	const controllerKey, controllerSecret = "AKIACONTROLLER", "controller-s3cret-key"
	t.Setenv("AWS_ACCESS_KEY_ID", controllerKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", controllerSecret)

	// An AWS KMS key and an Azure Key Vault key, each encrypting one document.
	admin := credentials.NewStaticCredentialsProvider("AKIAADMIN", "admin-secret", "")
	kmsClient := awskms.New(awskms.Options{Region: kmsserver.Region, Credentials: admin, BaseEndpoint: aws.String(kmsSrv.Endpoint())})
	created, err := kmsClient.CreateKey(testCtx(t), &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	awsKey := kms.NewMasterKey(*created.KeyMetadata.Arn, "", nil)
	kms.NewCredentialsProvider(admin).ApplyToMasterKey(awsKey)
	awsDoc := sopsEncryptFor(t, []byte(plainSecret), awsKey)

	const adminClient, adminSecret = "kv-admin", "kv-admin-s3cret"
	kv.AddClientSecret(adminClient, adminSecret)
	adminCred, err := azidentity.NewClientSecretCredential(azurekvapi.Tenant, adminClient, adminSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: kv.AuthorityHost()}}, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	azKey := azkv.NewMasterKey(kv.VaultURL(), "tenant", kv.CreateKey("tenant"))
	azkv.NewTokenCredential(adminCred).ApplyToMasterKey(azKey)
	azDoc := sopsEncryptFor(t, []byte(plainSecret), azKey)

	// A Google Cloud KMS key; GKE workload identity: the service account's token exchanged at
	// Google's STS for the cluster's pool (read from the metadata server), then team-gcp's
	// Google service account impersonated; KMS accepts that account's token.
	gcpSrv := gcpkmsapi.Start(t)
	t.Setenv(gcpkms.SopsGCPKMSEndpointEnv, gcpSrv.Endpoint())
	t.Setenv(gcpkms.SopsGCPKMSClientTypeEnv, "rest")
	t.Setenv(gcpkms.SopsGoogleCredentialsEnv, "")
	t.Setenv(gcpkms.SopsGoogleCredentialsOAuthTokenEnv, "")
	gkeMetadata := cloudapi.StartMetadata(t)
	t.Setenv("GCE_METADATA_HOST", gkeMetadata.Host)
	const gsa = "team-gcp@gotk-test.iam.gserviceaccount.com"
	googleToken := cloudapi.Secret("ya29.team-gcp-")
	google := cloudapi.StartGoogleIAM(t, cloudapi.GoogleIAMOptions{Verify: reviewed, Pool: "gotk-test.svc.id.goog",
		ServiceAccountSubjects: map[string]string{gsa: subject("team-gcp")}, AccessToken: googleToken})
	gcpSrv.AcceptToken(googleToken)
	gcpKey := gcpkms.NewMasterKeyFromResourceID("projects/gotk-test/locations/global/keyRings/flux/cryptoKeys/tenant")
	gcpkms.CredentialJSON(gcpSrv.ServiceAccountJSON()).ApplyToMasterKey(gcpKey)
	gcpDoc := sopsEncryptFor(t, []byte(plainSecret), gcpKey)
	googleClient := func(l *cloud.Logins) { l.HTTPClient = cloudapi.HTTPClient() }

	for name, ann := range map[string]map[string]string{
		"team-aws":  {cloud.AnnotationAWSRoleARN: roleARN},
		"intruder":  {cloud.AnnotationAWSRoleARN: roleARN},
		"team-az":   {cloud.AnnotationAzureClientID: clientID, cloud.AnnotationAzureTenantID: azurekvapi.Tenant},
		"other-az":  {cloud.AnnotationAzureClientID: clientID, cloud.AnnotationAzureTenantID: azurekvapi.Tenant},
		"no-clouds": nil,
		"team-gcp":  {cloud.AnnotationGCPServiceAcct: gsa},
		"gcp-mole":  {cloud.AnnotationGCPServiceAcct: gsa},
	} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann}}
		if err := k8s().Create(testCtx(t), sa); err != nil {
			t.Fatal(err)
		}
	}

	// decryptAs decrypts doc for a Kustomization of ns naming serviceAccount, with the gate
	// and --default-decryption-service-account given, as the reconciler's decryption does.
	// secretRef, when set, is the decryption Secret of decryptAs' Kustomizations.
	secretRef := ""
	decryptWith := func(t *testing.T, gate bool, defaultSA, serviceAccount string, doc []byte, configure func(*cloud.Logins)) error {
		t.Helper()
		opts := Options{ObjectLevelWorkloadIdentity: gate, DefaultDecryptionServiceAccount: defaultSA}
		r := &KustomizationReconciler{Client: k8s(), opts: opts, logins: newDecryptionLogins(opts, k8s())}
		if configure != nil {
			configure(r.logins)
		}
		obj := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
			Spec: kustomizev1.KustomizationSpec{Decryption: &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, ServiceAccountName: serviceAccount}}}
		if secretRef != "" {
			obj.Spec.Decryption.SecretRef = &meta.LocalObjectReference{Name: secretRef}
		}
		d, err := r.decryptor(context.Background(), obj)
		if err != nil {
			return err
		}
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatal(err)
		}
		if err := d.dec.DecryptObjects([]*unstructured.Unstructured{&u}); err != nil {
			return err
		}
		if got, _, _ := unstructured.NestedString(u.Object, "stringData", "password"); got != plainPassword {
			t.Fatalf("stringData.password = %q after decryption", got)
		}
		return nil
	}
	decryptAs := func(t *testing.T, gate bool, defaultSA, serviceAccount string, doc []byte) error {
		t.Helper()
		return decryptWith(t, gate, defaultSA, serviceAccount, doc, nil)
	}
	secrets := []string{"eyJ", "ya29.", sts.SecretAccessKey, sts.SessionToken, controllerSecret, adminSecret, plainPassword}
	refused := func(t *testing.T, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatal("decrypted; want a refusal")
		}
		assertContains(t, "error", err.Error(), want...)
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("the error holds a credential or secret: %v", err)
			}
		}
	}

	t.Run("aws: the service account's role", func(t *testing.T) {
		if err := decryptAs(t, true, "", "team-aws", awsDoc); err != nil {
			t.Fatal(err)
		}
		if n := sts.Counts().STS; n != 1 {
			t.Errorf("STS issued %d credentials, want 1", n)
		}
	})
	t.Run("aws: another service account naming the role is refused", func(t *testing.T) {
		refused(t, decryptAs(t, true, "", "intruder", awsDoc),
			"Secret/db", "service account '"+ns+"/intruder' (role "+roleARN+")", "AssumeRoleWithWebIdentity", "AccessDenied")
	})
	t.Run("aws: a service account without the role annotation is told which", func(t *testing.T) {
		refused(t, decryptAs(t, true, "", "no-clouds", awsDoc), "service account '"+ns+"/no-clouds'", cloud.AnnotationAWSRoleARN)
	})
	t.Run("default decryption service account applies to objects naming none", func(t *testing.T) {
		if err := decryptAs(t, true, "team-aws", "", awsDoc); err != nil {
			t.Fatal(err)
		}
		// Lockdown: the default is the identity, never the controller's own.
		refused(t, decryptAs(t, true, "intruder", "", awsDoc), "service account '"+ns+"/intruder'", "AccessDenied")
		// The object's own wins over the default.
		refused(t, decryptAs(t, true, "team-aws", "no-clouds", awsDoc), "service account '"+ns+"/no-clouds'")
	})
	t.Run("the Secret's static credentials win over the service account", func(t *testing.T) {
		if err := k8s().Create(testCtx(t), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "static-aws"},
			StringData: map[string]string{"sops.aws-kms": "aws_access_key_id: AKIASTATIC\naws_secret_access_key: static-s3cret\n"}}); err != nil {
			t.Fatal(err)
		}
		secretRef = "static-aws"
		defer func() { secretRef = "" }()
		// no-clouds has no role: only the Secret's credentials can decrypt.
		if err := decryptAs(t, true, "", "no-clouds", awsDoc); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("azure: the service account's federated client", func(t *testing.T) {
		if err := decryptAs(t, true, "", "team-az", azDoc); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("azure: another service account naming the client is refused", func(t *testing.T) {
		refused(t, decryptAs(t, true, "", "other-az", azDoc), "Secret/db", "service account '"+ns+"/other-az'", "AADSTS7000215")
	})
	t.Run("azure: an AWS-only service account is not replaced by the controller's identity", func(t *testing.T) {
		refused(t, decryptAs(t, true, "", "team-aws", azDoc), "service account '"+ns+"/team-aws'", cloud.AnnotationAzureClientID)
	})
	t.Run("gcp: the service account's Google service account", func(t *testing.T) {
		if err := decryptWith(t, true, "", "team-gcp", gcpDoc, googleClient); err != nil {
			t.Fatal(err)
		}
		if c := google.Counts(); c.GoogleSTS != 1 || c.GoogleIAM != 1 {
			t.Errorf("one token exchange and one impersonation expected: %+v", c)
		}
		if c := gkeMetadata.Counts(); c.Metadata != 0 {
			t.Errorf("the controller's own Google token was asked for %d times", c.Metadata)
		}
	})
	t.Run("gcp: another service account naming it is refused", func(t *testing.T) {
		refused(t, decryptWith(t, true, "", "gcp-mole", gcpDoc, googleClient), "Secret/db",
			"service account '"+ns+"/gcp-mole' (Google service account "+gsa+")", "generateAccessToken", "PERMISSION_DENIED")
	})
	t.Run("reconcile: applies with the identity, refuses another without leaking", func(t *testing.T) {
		d := newDirect(t, Options{ObjectLevelWorkloadIdentity: true})
		src, _ := gitRepo(t, ns, "repo", map[string]string{"secret.yaml": string(awsDoc)})
		for name, sa := range map[string]string{"good": "team-aws", "bad": "intruder"} {
			newKustomization(t, ns, name, src, "", directLabelled, func(ks *kustomizev1.Kustomization) {
				ks.Spec.Decryption = &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, ServiceAccountName: sa}
				ks.Spec.TargetNamespace = ns + "-" + name
			})
			if err := k8s().Create(testCtx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + name}}); err != nil {
				t.Fatal(err)
			}
		}
		assertReady(t, d.reconcile(t, ns, "bad"), metav1.ConditionFalse, decryptionFailedReason,
			"Secret/"+ns+"-bad/db", "service account '"+ns+"/intruder'", "AccessDenied")
		if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns + "-bad", Name: "db"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
			t.Errorf("the Secret was applied although STS refused the service account: %v", err)
		}
		assertReady(t, d.reconcile(t, ns, "good"), metav1.ConditionTrue, meta.ReconciliationSucceededReason)
		var got corev1.Secret
		if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns + "-good", Name: "db"}, &got); err != nil || string(got.Data["password"]) != plainPassword {
			t.Errorf("decrypted Secret: %v, %v", got.Data, err)
		}
		for _, name := range []string{"good", "bad"} {
			assertNothingLeaks(t, ns, name, append([]string{plainToken}, secrets...)...)
		}
	})
	t.Run("gate off", func(t *testing.T) {
		err := decryptAs(t, false, "", "team-aws", awsDoc)
		if reason := reconcile.ReasonOf(err); reason != meta.FeatureGateDisabledReason {
			t.Errorf("reason = %q (%v), want %s", reason, err, meta.FeatureGateDisabledReason)
		}
		// Without the gate the default decryption service account does not apply.
		if err := decryptAs(t, false, "intruder", "", awsDoc); err != nil {
			t.Errorf("without the gate objects naming no service account decrypt with the controller's identity: %v", err)
		}
	})
}
