package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/getsops/sops/v3/azkv"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/azurekvapi"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// TestSOPSAzureKeyVaultDecryption applies a Secret whose SOPS data key is encrypted with Azure
// Key Vault, with the service principal of spec.decryption.secretRef's sops.azure-kv entry
// (the identity platform and Key Vault are a test server over TLS). A Key Vault that refuses
// the key fails the reconcile DecryptionFailed naming the Secret and the key, applies nothing,
// and the client secret never reaches status or events.
func TestSOPSAzureKeyVaultDecryption(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	kv := azurekvapi.Start(t)
	const clientID, clientSecret = "3c4d5e6f-flux-sops", "azure-cl1ent-s3cret~kustomize"
	kv.AddClientSecret(clientID, clientSecret)
	version, retired := kv.CreateKey("flux"), kv.CreateKey("retired")
	encryptWith := func(name, version string) []byte {
		cred, err := azidentity.NewClientSecretCredential(azurekvapi.Tenant, clientID, clientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: kv.AuthorityHost()}},
			DisableInstanceDiscovery: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		mk := azkv.NewMasterKey(kv.VaultURL(), name, version)
		azkv.NewTokenCredential(cred).ApplyToMasterKey(mk)
		return sopsEncryptFor(t, []byte(plainSecret), mk)
	}
	good, refused := encryptWith("flux", version), encryptWith("retired", retired)
	kv.Disable("retired", retired)
	entry := "tenantId: " + azurekvapi.Tenant + "\nclientId: " + clientID + "\nclientSecret: " + clientSecret + "\nauthorityHost: " + kv.AuthorityHost() + "\n"
	if err := k8s().Create(testCtx(t), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sops-azure"},
		StringData: map[string]string{"sops.azure-kv": entry},
	}); err != nil {
		t.Fatal(err)
	}
	decryption := func(ks *kustomizev1.Kustomization) {
		ks.Spec.Decryption = &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, SecretRef: &meta.LocalObjectReference{Name: "sops-azure"}}
	}

	refusedSrc, _ := gitRepo(t, ns, "refused-repo", map[string]string{"secret.yaml": string(refused)})
	newKustomization(t, ns, "refused", refusedSrc, "", decryption)
	ks := waitReadyReason(t, ns, "refused", metav1.ConditionFalse, decryptionFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message,
		"Secret/"+ns+"/db", "Azure Key Vault key "+kv.VaultURL()+"/keys/retired/"+retired, "not allowed on a disabled key")
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "db"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the Secret was applied although Key Vault refused: %v", err)
	}

	src, _ := gitRepo(t, ns, "repo", map[string]string{"secret.yaml": string(good)})
	newKustomization(t, ns, "app", src, "", decryption)
	waitReady(t, ns, "app", 30*time.Second)
	var secret corev1.Secret
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "db"}, &secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["password"]) != plainPassword || strings.Contains(string(mustJSON(t, secret)), "ENC[") {
		t.Errorf("decrypted Secret data = %q", secret.Data)
	}
	for _, name := range []string{"app", "refused"} {
		assertNothingLeaks(t, ns, name, plainPassword, plainToken, clientSecret)
	}
}
