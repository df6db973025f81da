package decrypt

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3/keys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDecryptObjects(t *testing.T) {
	id, ageMK := ageKey(t)
	ecPriv, ecMK := pgpKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	rsaPriv, rsaMK := pgpKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048})
	tests := []struct {
		name   string
		mks    []keys.MasterKey
		secret map[string][]byte
	}{
		{"age", []keys.MasterKey{ageMK}, map[string][]byte{"identity.agekey": []byte(id.String())}},
		{"openpgp ed25519", []keys.MasterKey{ecMK}, map[string][]byte{"sops.asc": ecPriv}},
		{"openpgp rsa", []keys.MasterKey{rsaMK}, map[string][]byte{"sops.asc": rsaPriv}},
		{"age and openpgp, openpgp key only", []keys.MasterKey{ageMK, rsaMK}, map[string][]byte{"sops.asc": rsaPriv}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", tt.mks...)
			if strings.Contains(string(enc), "s3cr3t-t0ken") || !strings.Contains(string(enc), "name: db") {
				t.Fatalf("unexpected encryption:\n%s", enc)
			}
			obj := toObject(t, enc)
			if !IsEncryptedObject(obj) {
				t.Fatal("not detected as encrypted")
			}
			// What kustomize does to it: a namespace, a label, a name prefix,
			// and the key order of the file is gone.
			obj.SetNamespace("apps")
			obj.SetLabels(map[string]string{"team": "a"})
			obj.SetName("prod-db")
			before := obj.DeepCopy()
			shallow := &unstructured.Unstructured{Object: obj.Object}

			d, err := NewDecryptor(tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.DecryptObjects([]*unstructured.Unstructured{shallow}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(obj.Object, before.Object) {
				t.Error("the input object's maps were modified")
			}
			want := toObject(t, []byte(secretYAML))
			want.SetNamespace("apps")
			want.SetLabels(map[string]string{"team": "a"})
			want.SetName("prod-db")
			if !reflect.DeepEqual(shallow.Object, want.Object) {
				t.Errorf("decrypted\n%v\nwant\n%v", shallow.Object, want.Object)
			}
			if IsEncryptedObject(shallow) {
				t.Error("still encrypted")
			}
		})
	}
}

func TestDecryptObjectsTypes(t *testing.T) {
	id, mk := ageKey(t)
	plain := "apiVersion: example.com/v1\nkind: Config\nmetadata:\n  name: c\nspec:\n  replicas: 3\n  ratio: 1.5\n  enabled: true\n  list: [a, 2]\n  nested: {k: v}\n"
	obj := toObject(t, encrypt(t, "c.yaml", []byte(plain), "^spec$", mk))
	d, err := NewDecryptor(map[string][]byte{"a.agekey": []byte(id.String())})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
		t.Fatal(err)
	}
	if want := toObject(t, []byte(plain)); !reflect.DeepEqual(obj.Object, want.Object) {
		t.Errorf("got %#v\nwant %#v", obj.Object, want.Object)
	}
}

func TestDecryptObjectsLeavesPlainObjectsAlone(t *testing.T) {
	d, err := NewDecryptor(nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := toObject(t, []byte(secretYAML))
	cm := toObject(t, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {sops: yes}\n"))
	p1, p2 := reflect.ValueOf(plain.Object).Pointer(), reflect.ValueOf(cm.Object).Pointer()
	if err := d.DecryptObjects([]*unstructured.Unstructured{plain, cm, nil}); err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(plain.Object).Pointer() != p1 || reflect.ValueOf(cm.Object).Pointer() != p2 {
		t.Error("plain objects were replaced")
	}
}

func TestDecryptObjectsErrors(t *testing.T) {
	id, mk := ageKey(t)
	other, _ := ageKey(t)
	pgpPriv, _ := pgpKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	enc := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", mk)
	good := map[string][]byte{"k.agekey": []byte(id.String())}
	secrets := []string{"s3cr3t-t0ken", "aHVudGVyMg==", "hunter2", "admin", id.String(), other.String(), string(pgpPriv), "PRIVATE KEY"}

	tests := []struct {
		name   string
		doc    string
		secret map[string][]byte
		want   []string
	}{{
		name:   "wrong age key and an OpenPGP key",
		doc:    string(enc),
		secret: map[string][]byte{"k.agekey": []byte(other.String()), "g.asc": pgpPriv},
		want:   []string{"Secret/apps/db", "no decryption key matches", mk.Recipient, "1 age identity and 1 OpenPGP key"},
	}, {
		name:   "no keys at all",
		doc:    string(enc),
		secret: nil,
		want:   []string{"Secret/apps/db", "0 age identities and 0 OpenPGP keys"},
	}, {
		name:   "corrupted MAC",
		doc:    corrupt(t, string(enc), "mac: ENC[AES256_GCM,data:"),
		secret: good,
		want:   []string{"Secret/apps/db", "MAC is corrupted"},
	}, {
		name:   "corrupted value",
		doc:    corrupt(t, string(enc), "token: ENC[AES256_GCM,data:"),
		secret: good,
		want:   []string{"Secret/apps/db", "does not decrypt"},
	}, {
		name:   "value added in plaintext after encryption",
		doc:    strings.Replace(string(enc), "stringData:\n", "stringData:\n    extra: hunter2\n", 1),
		secret: good,
		want:   []string{"Secret/apps/db", "does not decrypt"},
	}, {
		name:   "corrupted data key",
		doc:    corrupt(t, string(enc), "-----BEGIN AGE ENCRYPTED FILE-----\n            "),
		secret: good,
		want:   []string{"Secret/apps/db", "cannot recover the data key", mk.Recipient},
	}, {
		name:   "HuaweiCloud KMS only",
		doc:    hckmsOnly(t, string(enc)),
		secret: good,
		want:   []string{"Secret/apps/db", "hckms key cn-north-4:0f3c8a2e-7b1d-4c5e-9f60-a1b2c3d4e5f6 (not supported)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := toObject(t, []byte(tt.doc))
			obj.SetNamespace("apps")
			orig := obj.DeepCopy()
			d, err := NewDecryptor(tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			err = d.DecryptObjects([]*unstructured.Unstructured{obj})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			assertNoLeak(t, err.Error(), secrets...)
			if !reflect.DeepEqual(obj.Object, orig.Object) {
				t.Error("a failing object was changed")
			}
		})
	}
}

// corrupt flips one character right after marker.
func corrupt(t testing.TB, doc, marker string) string {
	t.Helper()
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("%q not in\n%s", marker, doc)
	}
	i += len(marker)
	c := byte('A')
	if doc[i] == 'A' {
		c = 'B'
	}
	return doc[:i] + string(c) + doc[i+1:]
}

// hckmsOnly replaces the age key group of a document by a HuaweiCloud KMS one (a key type
// this package does not decrypt).
func hckmsOnly(t testing.TB, doc string) string {
	t.Helper()
	start := strings.Index(doc, "    age:\n")
	end := strings.Index(doc, "    encrypted_regex:")
	if start < 0 || end < start {
		t.Fatalf("unexpected layout:\n%s", doc)
	}
	hckms := "    hckms:\n        - key_id: cn-north-4:0f3c8a2e-7b1d-4c5e-9f60-a1b2c3d4e5f6\n          created_at: \"2024-01-01T00:00:00Z\"\n          enc: AQICAHg=\n"
	return doc[:start] + hckms + doc[end:]
}

func TestRequireNoneEncrypted(t *testing.T) {
	_, mk := ageKey(t)
	enc := toObject(t, encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", mk))
	enc.SetNamespace("apps")
	plain := toObject(t, []byte(secretYAML))
	if err := RequireNoneEncrypted([]*unstructured.Unstructured{plain, nil}); err != nil {
		t.Fatal(err)
	}
	err := RequireNoneEncrypted([]*unstructured.Unstructured{plain, enc})
	if err == nil || err.Error() != "Secret/apps/db is SOPS-encrypted but spec.decryption is not set" {
		t.Fatalf("err = %v", err)
	}
	var many []*unstructured.Unstructured
	for i := range 15 {
		o := enc.DeepCopy()
		o.SetName(fmt.Sprintf("s%d", i))
		many = append(many, o)
	}
	err = RequireNoneEncrypted(many)
	if err == nil || !strings.Contains(err.Error(), "Secret/apps/s9 is") || strings.Contains(err.Error(), "s10 is") || !strings.Contains(err.Error(), "and 5 more") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretWithEncryptedFile(t *testing.T) {
	id, mk := ageKey(t)
	envPlain := "DB_PASSWORD=hunter2\nDB_USER=admin\n"
	encEnv := encrypt(t, "db.env", []byte(envPlain), "", mk)
	encJSON := encrypt(t, "conf.json", []byte(`{"token": "s3cr3t"}`), "", mk)
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "gen-abc", "namespace": "apps"},
		"data":       map[string]any{"db.env": b64(encEnv), "plain": b64([]byte("x"))},
		"stringData": map[string]any{"conf.json": string(encJSON)},
	}}
	if !IsEncryptedObject(secret) {
		t.Fatal("not detected")
	}
	if err := RequireNoneEncrypted([]*unstructured.Unstructured{secret}); err == nil {
		t.Fatal("RequireNoneEncrypted passed")
	}
	d, err := NewDecryptor(map[string][]byte{"age.agekey": []byte(id.String())})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DecryptObjects([]*unstructured.Unstructured{secret}); err != nil {
		t.Fatal(err)
	}
	data := secret.Object["data"].(map[string]any)
	if data["db.env"] != b64([]byte(envPlain)) || data["plain"] != b64([]byte("x")) {
		t.Errorf("data = %v", data)
	}
	if got := secret.Object["stringData"].(map[string]any)["conf.json"]; !strings.Contains(got.(string), `"token": "s3cr3t"`) {
		t.Errorf("stringData = %v", got)
	}
	if IsEncryptedObject(secret) {
		t.Error("still encrypted")
	}
}

// TestDecryptConcurrently shares one decryptor between goroutines (run
// with -race).
func TestDecryptConcurrently(t *testing.T) {
	id, ageMK := ageKey(t)
	priv, pgpMK := pgpKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	d, err := NewDecryptor(map[string][]byte{"a.agekey": []byte(id.String()), "b.asc": priv})
	if err != nil {
		t.Fatal(err)
	}
	docs := [][]byte{
		encrypt(t, "s.yaml", []byte(secretYAML), "^(data|stringData)$", ageMK),
		encrypt(t, "s.yaml", []byte(secretYAML), "^(data|stringData)$", pgpMK),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			for range 10 {
				obj := toObject(t, docs[i%2])
				if err := d.DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
					errs <- err
					return
				}
				if v, _, _ := unstructured.NestedString(obj.Object, "stringData", "token"); v != "s3cr3t-t0ken" {
					errs <- fmt.Errorf("token = %q", v)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
