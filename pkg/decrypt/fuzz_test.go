package decrypt

import (
	"bytes"
	"testing"

	"filippo.io/age"
	sopsage "github.com/getsops/sops/v3/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// fuzzIdentity is fixed so that seeds written to testdata stay decryptable.
const fuzzIdentity = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"

// FuzzDecrypt feeds arbitrary documents to every entry point: none may
// panic, a plaintext decryption must come from an encrypted document, and
// decrypted output never echoes the key.
func FuzzDecrypt(f *testing.F) {
	id, err := age.ParseX25519Identity(fuzzIdentity)
	if err != nil {
		f.Fatal(err)
	}
	mk, err := sopsage.MasterKeyFromRecipient(id.Recipient().String())
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []struct{ name, plain string }{
		{"s.yaml", secretYAML},
		{"a.env", "A=1\nB=hunter2\n"},
		{"a.json", `{"a": [1, {"b": true}]}`},
		{"a.ini", "[s]\nk = v\n"},
		{"a.bin", "raw"},
	} {
		f.Add(encrypt(f, c.name, []byte(c.plain), "", mk), c.name)
	}
	f.Add([]byte("sops:\n  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n  version: 3.9.0\n"), "x.yaml")
	f.Add([]byte("apiVersion: v1\nkind: Secret\nsops: {mac: 1}\n"), "x.yaml")
	d, err := NewDecryptor(map[string][]byte{"f.agekey": []byte(fuzzIdentity)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		encrypted := IsEncryptedData(data)
		out, err := d.DecryptFile(name, data)
		if err == nil && !encrypted {
			t.Fatalf("decrypted a document IsEncryptedData rejects:\n%q", data)
		}
		if bytes.Contains(out, []byte(fuzzIdentity)) && !bytes.Contains(data, []byte(fuzzIdentity)) {
			t.Fatal("output contains the identity")
		}
		if err != nil && bytes.Contains([]byte(err.Error()), []byte(fuzzIdentity)) {
			t.Fatal("error contains the identity")
		}
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return
		}
		var m map[string]any
		if utiljson.Unmarshal(j, &m) != nil || m == nil {
			return
		}
		obj := &unstructured.Unstructured{Object: m}
		_ = IsEncryptedObject(obj)
		_ = RequireNoneEncrypted([]*unstructured.Unstructured{obj})
		_ = d.DecryptObjects([]*unstructured.Unstructured{obj})
	})
}
