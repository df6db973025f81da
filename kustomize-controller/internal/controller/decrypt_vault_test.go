package controller

import (
	"strings"

	"testing"
	"time"

	"filippo.io/age"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/getsops/sops/v3/hcvault"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/vaultapi"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// TestSOPSVaultDecryption applies a Secret whose SOPS data key is encrypted with Vault's
// transit engine, with the sops.vault-token of spec.decryption.secretRef. A Vault that refuses
// the token fails the reconcile naming the Secret and the Vault key, applies nothing, and the
// token never reaches status or events.
func TestSOPSVaultDecryption(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	const token, wrongToken = "hvs.kustomize-t0ken-s3cret", "hvs.revoked-t0ken-s3cret"
	vault := vaultapi.Start(t, token, "transit")
	mk := hcvault.NewMasterKey(vault.Address(), "transit", "flux")
	hcvault.Token(token).ApplyToMasterKey(mk)
	encrypted := sopsEncryptFor(t, []byte(plainSecret), mk)
	for name, tok := range map[string]string{"vault": token, "vault-revoked": wrongToken} {
		if err := k8s().Create(testCtx(t), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Data:       map[string][]byte{"sops.vault-token": []byte(tok)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{"secret.yaml": string(encrypted)})
	decryption := func(secret string) ksOpt {
		return func(ks *kustomizev1.Kustomization) {
			ks.Spec.Decryption = &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, SecretRef: &meta.LocalObjectReference{Name: secret}}
		}
	}
	newKustomization(t, ns, "refused", src, "", decryption("vault-revoked"))
	ks := waitReadyReason(t, ns, "refused", metav1.ConditionFalse, decryptionFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "Secret/"+ns+"/db", "Vault transit key", "permission denied")
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "db"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the Secret was applied although Vault refused: %v", err)
	}

	newKustomization(t, ns, "app", src, "", decryption("vault"))
	waitReady(t, ns, "app", 30*time.Second)
	var secret corev1.Secret
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "db"}, &secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["password"]) != plainPassword || strings.Contains(string(mustJSON(t, secret)), "ENC[") {
		t.Errorf("decrypted Secret data = %q", secret.Data)
	}
	for _, name := range []string{"app", "refused"} {
		assertNothingLeaks(t, ns, name, plainPassword, plainToken, token, wrongToken)
	}
}

// TestSOPSDecryptDisabled: an object annotated kustomize.toolkit.fluxcd.io/decrypt: Disabled is
// neither decrypted nor refused for lack of spec.decryption: it goes to the apply as written,
// for another party to decrypt. (The API server then refuses the `sops` field of a Secret,
// which shows the object was not touched; the policy is meant for kinds that keep it.)
func TestSOPSDecryptDisabled(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	annotated := strings.Replace(plainSecret, "  name: db\n", "  name: db\n  annotations:\n    kustomize.toolkit.fluxcd.io/decrypt: Disabled\n", 1)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"db.yaml": string(sopsEncrypt(t, []byte(annotated), id.Recipient().String())),
	})
	if err := k8s().Create(testCtx(t), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sops-age"},
		Data:       map[string][]byte{"identity.agekey": []byte(id.String())},
	}); err != nil {
		t.Fatal(err)
	}
	newKustomization(t, ns, "undeclared", src, "")
	newKustomization(t, ns, "with-key", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Decryption = &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, SecretRef: &meta.LocalObjectReference{Name: "sops-age"}}
	})
	for _, name := range []string{"undeclared", "with-key"} {
		ks := waitReadyReason(t, ns, name, metav1.ConditionFalse, meta.ReconciliationFailedReason, 30*time.Second)
		assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "Secret/"+ns+"/db", ".sops")
		assertNothingLeaks(t, ns, name, plainPassword, plainToken, id.String())
	}
}
