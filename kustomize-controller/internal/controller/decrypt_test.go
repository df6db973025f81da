package controller

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/version"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// sopsEncrypt encrypts a YAML manifest with sops' library as
// `sops --encrypt --encrypted-regex '^(data|stringData)$'` does, for an age recipient.
func sopsEncrypt(t *testing.T, plain []byte, recipient string) []byte {
	t.Helper()
	mk, err := sopsage.MasterKeyFromRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	return sopsEncryptFor(t, plain, mk)
}

// sopsEncryptFor encrypts like sopsEncrypt for any sops master key (Vault transit, AWS KMS).
func sopsEncryptFor(t *testing.T, plain []byte, mk keys.MasterKey) []byte {
	t.Helper()
	store := common.DefaultStoreForPath(config.NewStoresConfig(), "secret.yaml")
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{{mk}},
		EncryptedRegex: "^(data|stringData)$",
		Version:        version.Version,
	}}
	dataKey := make([]byte, 32)
	for i := range dataKey {
		dataKey[i] = byte(i*11 + 5)
	}
	for _, k := range []keys.MasterKey{mk} {
		if err := k.Encrypt(dataKey); err != nil {
			t.Fatal(err)
		}
	}
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: &tree, Cipher: aes.NewCipher(), DataKey: dataKey}); err != nil {
		t.Fatal(err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const (
	plainPassword = "correct-horse-battery-staple"
	plainToken    = "tok-9f8e7d6c5b4a"
)

const plainSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: ` + plainPassword + `
  token: ` + plainToken + `
`

// assertNothingLeaks fails when the Kustomization's status, the events received or the
// Kubernetes Events of ns, or the controller's log, hold any of secrets.
func assertNothingLeaks(t *testing.T, ns, name string, secrets ...string) {
	t.Helper()
	// Nor anything the controller logged (at trace level) since the suite started.
	suiteEnv.logs.NoSecrets(t, 0, []string{name}, secrets...)
	var texts []string
	status, _ := json.Marshal(getKS(t, ns, name).Status)
	texts = append(texts, string(status))
	for _, ev := range suiteEnv.events.InNamespace(ns) {
		b, _ := json.Marshal(ev)
		texts = append(texts, string(b))
	}
	var list corev1.EventList
	if err := k8s().List(testCtx(t), &list); err != nil {
		t.Fatal(err)
	}
	for _, ev := range list.Items {
		if ev.InvolvedObject.Namespace == ns {
			b, _ := json.Marshal(ev)
			texts = append(texts, string(b))
		}
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%q leaks in %s", s, text)
			}
		}
	}
}

// TestSOPSDecryption decrypts a SOPS (age) encrypted Secret with the key of
// spec.decryption.secretRef; without decryption configured, or with a wrong key, the
// reconcile fails naming the Secret. Decrypted values never reach status or events.
func TestSOPSDecryption(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	encrypted := sopsEncrypt(t, []byte(plainSecret), id.Recipient().String())
	if strings.Contains(string(encrypted), plainPassword) {
		t.Fatal("the test encryption left the plaintext in")
	}
	for name, key := range map[string]string{"sops-age": id.String(), "sops-wrong": wrong.String()} {
		if err := k8s().Create(testCtx(t), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Data:       map[string][]byte{"identity.agekey": []byte(key)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"secret.yaml": string(encrypted),
		"cm.yaml":     cmYAML("cm", nil),
	})
	decryption := func(secret string) ksOpt {
		return func(ks *kustomizev1.Kustomization) {
			ks.Spec.Decryption = &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, SecretRef: &meta.LocalObjectReference{Name: secret}}
		}
	}
	newKustomization(t, ns, "plain", src, "")
	newKustomization(t, ns, "wrong", src, "", decryption("sops-wrong"))
	newKustomization(t, ns, "app", src, "", decryption("sops-age"))

	waitReady(t, ns, "app", 30*time.Second)
	var secret corev1.Secret
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "db"}, &secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["password"]) != plainPassword || string(secret.Data["token"]) != plainToken {
		t.Errorf("decrypted Secret data = %q", secret.Data)
	}
	if _, ok := secret.Annotations["sops"]; ok || strings.Contains(string(mustJSON(t, secret)), "ENC[") {
		t.Error("SOPS metadata or ciphertext reached the cluster")
	}

	ks := waitReadyReason(t, ns, "plain", metav1.ConditionFalse, decryptionFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "Secret/"+ns+"/db", "decryption")
	ks = waitReadyReason(t, ns, "wrong", metav1.ConditionFalse, decryptionFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "Secret/"+ns+"/db")

	for _, name := range []string{"app", "plain", "wrong"} {
		assertNothingLeaks(t, ns, name, plainPassword, plainToken, id.String(), wrong.String())
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSOPSAgeSecretFallback: with --sops-age-secret, the age keys of that Secret in the
// controller's namespace decrypt a Kustomization whose own decryption Secret lacks the key.
func TestSOPSAgeSecretFallback(t *testing.T) {
	t.Parallel()
	controllerNS, ns := newNamespace(t), newNamespace(t)
	d := newDirect(t, Options{SOPSAgeSecret: "global-age", RuntimeNamespace: controllerNS})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: controllerNS, Name: "global-age"}, Data: map[string][]byte{"global.agekey": []byte(id.String())}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "own"}, Data: map[string][]byte{"own.agekey": []byte(other.String())}},
	} {
		if err := k8s().Create(testCtx(t), s); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{"secret.yaml": string(sopsEncrypt(t, []byte(plainSecret), id.Recipient().String()))})
	newKustomization(t, ns, "app", src, "", directLabelled, func(ks *kustomizev1.Kustomization) {
		ks.Spec.Decryption = &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, SecretRef: &meta.LocalObjectReference{Name: "own"}}
	})
	assertReady(t, d.reconcile(t, ns, "app"), metav1.ConditionTrue, meta.ReconciliationSucceededReason)
	var got corev1.Secret
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "db"}, &got); err != nil || string(got.Data["password"]) != plainPassword {
		t.Errorf("decrypted Secret: %v, %v", got.Data, err)
	}
}
