package decrypt

import (
	"strings"
	"testing"

	"github.com/getsops/sops/v3/hcvault"
	"github.com/getsops/sops/v3/keys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/internal/testing/vaultapi"
)

// vaultKey is a sops hc_vault master key on srv's transit engine, authenticated with token
// for encryption, as `sops --hc-vault-transit` makes.
func vaultKey(srv *vaultapi.Server, token, key string) keys.MasterKey {
	mk := hcvault.NewMasterKey(srv.Address(), "transit", key)
	hcvault.Token(token).ApplyToMasterKey(mk)
	return mk
}

// TestDecryptVault decrypts documents whose data key is encrypted with Vault's transit
// engine, with the sops.vault-token of the decryption Secret; a missing or wrong token and a
// Vault that refuses each say which key and why, without the token.
func TestDecryptVault(t *testing.T) {
	t.Parallel()
	const token = "hvs.vault-t0ken-s3cret"
	srv := vaultapi.Start(t, token, "transit")
	enc := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", vaultKey(srv, token, "flux"))
	if !strings.Contains(string(enc), "hc_vault") || strings.Contains(string(enc), "s3cr3t-t0ken") {
		t.Fatalf("unexpected encryption:\n%s", enc)
	}
	refusedEnc := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", vaultKey(srv, token, "revoked"))
	srv.Refuse("revoked")
	id, ageMK := ageKey(t)
	both := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", ageMK, vaultKey(srv, token, "flux"))

	decryptOne := func(t *testing.T, doc []byte, secret map[string][]byte) (*unstructured.Unstructured, error) {
		t.Helper()
		d, err := NewDecryptor(secret)
		if err != nil {
			t.Fatal(err)
		}
		obj := toObject(t, doc)
		return obj, d.DecryptObjects([]*unstructured.Unstructured{obj})
	}

	t.Run("token", func(t *testing.T) {
		obj, err := decryptOne(t, enc, map[string][]byte{VaultTokenKey: []byte(token + "\n")})
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := unstructured.NestedString(obj.Object, "stringData", "token"); got != "s3cr3t-t0ken" {
			t.Fatalf("stringData.token = %q after decryption", got)
		}
	})
	t.Run("age first, Vault not asked", func(t *testing.T) {
		before := srv.Requests()
		if _, err := decryptOne(t, both, map[string][]byte{"id.agekey": []byte(id.String()), VaultTokenKey: []byte(token)}); err != nil {
			t.Fatal(err)
		}
		if got := srv.Requests() - before; got != 0 {
			t.Errorf("%d Vault requests although the age key opened the data key", got)
		}
	})
	for _, tc := range []struct {
		name   string
		doc    []byte
		secret map[string][]byte
		want   []string
	}{
		{"no token", enc, nil, []string{"Vault transit key " + srv.Address() + "/v1/transit/keys/flux", "no 'sops.vault-token' entry"}},
		{"wrong token", enc, map[string][]byte{VaultTokenKey: []byte("hvs.wrong-t0ken-s3cret")}, []string{"transit/decrypt/flux", "permission denied"}},
		{"vault refuses", refusedEnc, map[string][]byte{VaultTokenKey: []byte(token)}, []string{"keys/revoked", "permission denied"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decryptOne(t, tc.doc, tc.secret)
			if err == nil {
				t.Fatal("decrypted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, leak := range []string{token, "hvs.wrong-t0ken-s3cret", "s3cr3t-t0ken"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error leaks %q: %v", leak, err)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}
