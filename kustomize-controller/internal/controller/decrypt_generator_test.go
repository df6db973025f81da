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
	"github.com/getsops/sops/v3/version"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// sopsEncryptAs encrypts every value of plain with sops' library, in the format sops picks
// for a file named as (`sops -e --input-type=<as's type>`), for an age recipient.
func sopsEncryptAs(t *testing.T, as string, plain []byte, recipient string) []byte {
	t.Helper()
	mk, err := sopsage.MasterKeyFromRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	store := common.DefaultStoreForPath(config.NewStoresConfig(), as)
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:         []sops.KeyGroup{{mk}},
		UnencryptedSuffix: sops.DefaultUnencryptedSuffix,
		Version:           version.Version,
	}}
	dataKey := make([]byte, 32)
	for i := range dataKey {
		dataKey[i] = byte(i*13 + 1)
	}
	if err := mk.Encrypt(dataKey); err != nil {
		t.Fatal(err)
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

// TestSOPSSecretGeneratorSources builds secretGenerators whose sources are SOPS-encrypted
// files, decrypted before the build as upstream documents: "envs" dotenv files (named .env or
// not) and "files" entries in the format their Secret key names (JSON, YAML, INI, binary).
// The applied Secrets hold the plaintext. A dotenv encrypted for another key fails
// DecryptionFailed naming the file and applies nothing; without spec.decryption the
// encrypted source is refused by name; a source outside the source root is never read.
func TestSOPSSecretGeneratorSources(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	recipient := id.Recipient().String()
	const dbPassword, apiKey, jsonSecret, yamlSecret, iniSecret, binaryToken = "env-p4ssw0rd-value", "env-ap1-key-value",
		"json-s3cret-value", "yaml-s3cret-value", "ini-s3cret-value", "binary-t0ken-value\n"
	files := map[string]string{
		"gen/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
generatorOptions:
  disableNameSuffixHash: true
secretGenerator:
- name: app-env
  envs:
  - secret.env
  - creds.env.encrypted
- name: app-files
  files:
  - config.json=config.json.encrypted
  - settings.yaml=settings.yaml.encrypted
  - app.ini=app.ini.encrypted
  - token=token.encrypted
  - plain.txt
`,
		"gen/secret.env":            string(sopsEncryptAs(t, "secret.env", []byte("DB_PASSWORD="+dbPassword+"\nDB_USER=app\n"), recipient)),
		"gen/creds.env.encrypted":   string(sopsEncryptAs(t, "creds.env", []byte("API_KEY="+apiKey+"\n"), recipient)),
		"gen/config.json.encrypted": string(sopsEncryptAs(t, "config.json", []byte(`{"secret": "`+jsonSecret+`"}`), recipient)),
		"gen/settings.yaml.encrypted": string(sopsEncryptAs(t, "settings.yaml",
			[]byte("secret: "+yamlSecret+"\n"), recipient)),
		"gen/app.ini.encrypted": string(sopsEncryptAs(t, "app.ini", []byte("[db]\nsecret = "+iniSecret+"\n"), recipient)),
		"gen/token.encrypted":   string(sopsEncryptAs(t, "token", []byte(binaryToken), recipient)),
		"gen/plain.txt":         "not encrypted\n",
		"bad/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
secretGenerator:
- name: bad-env
  envs:
  - secret.env
`,
		"bad/secret.env": string(sopsEncryptAs(t, "secret.env", []byte("DB_PASSWORD="+dbPassword+"\n"), other.Recipient().String())),
		"escape/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
secretGenerator:
- name: escape
  envs:
  - ../../../../../../etc/hostname
`,
	}
	for name, content := range files {
		for _, leak := range []string{dbPassword, apiKey, jsonSecret, yamlSecret, iniSecret, binaryToken} {
			if name != "gen/plain.txt" && strings.Contains(content, leak) {
				t.Fatalf("%s holds %q in plaintext", name, leak)
			}
		}
	}
	src, _ := gitRepo(t, ns, "repo", files)
	if err := k8s().Create(testCtx(t), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sops-age"},
		Data:       map[string][]byte{"identity.agekey": []byte(id.String())},
	}); err != nil {
		t.Fatal(err)
	}
	decryption := func(ks *kustomizev1.Kustomization) {
		ks.Spec.Decryption = &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, SecretRef: &meta.LocalObjectReference{Name: "sops-age"}}
	}

	newKustomization(t, ns, "gen", src, "./gen", decryption)
	waitReady(t, ns, "gen", 30*time.Second)
	get := func(name string) map[string][]byte {
		t.Helper()
		var s corev1.Secret
		if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			t.Fatal(err)
		}
		return s.Data
	}
	env := get("app-env")
	if string(env["DB_PASSWORD"]) != dbPassword || string(env["DB_USER"]) != "app" || string(env["API_KEY"]) != apiKey || len(env) != 3 {
		t.Errorf("app-env data = %q", env)
	}
	data := get("app-files")
	var cfg struct{ Secret string }
	if err := json.Unmarshal(data["config.json"], &cfg); err != nil || cfg.Secret != jsonSecret {
		t.Errorf("config.json = %q (%v)", data["config.json"], err)
	}
	var settings struct{ Secret string }
	if err := yaml.Unmarshal(data["settings.yaml"], &settings); err != nil || settings.Secret != yamlSecret {
		t.Errorf("settings.yaml = %q (%v)", data["settings.yaml"], err)
	}
	if !strings.Contains(string(data["app.ini"]), "secret = "+iniSecret) || strings.Contains(string(data["app.ini"]), "sops") {
		t.Errorf("app.ini = %q", data["app.ini"])
	}
	if string(data["token"]) != binaryToken || string(data["plain.txt"]) != "not encrypted\n" {
		t.Errorf("token = %q, plain.txt = %q", data["token"], data["plain.txt"])
	}

	newKustomization(t, ns, "bad", src, "./bad", decryption)
	ks := waitReadyReason(t, ns, "bad", metav1.ConditionFalse, decryptionFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "file 'bad/secret.env'", "no decryption key matches", other.Recipient().String())
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "bad-env"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("bad-env was applied although its source does not decrypt: %v", err)
	}

	newKustomization(t, ns, "undeclared", src, "./gen")
	ks = waitReadyReason(t, ns, "undeclared", metav1.ConditionFalse, decryptionFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "file 'gen/", "is SOPS-encrypted but spec.decryption is not set")

	newKustomization(t, ns, "escape", src, "./escape", decryption)
	ks = waitReadyReason(t, ns, "escape", metav1.ConditionFalse, buildFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "../../../../../../etc/hostname", "outside the source root")
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "escape"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a Secret was generated from a file outside the source: %v", err)
	}

	for _, name := range []string{"gen", "bad", "undeclared", "escape"} {
		assertNothingLeaks(t, ns, name, dbPassword, apiKey, jsonSecret, yamlSecret, iniSecret, strings.TrimSpace(binaryToken), id.String())
	}
}
