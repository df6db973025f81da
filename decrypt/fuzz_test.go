package decrypt

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// fuzzIdentity is fixed so that seeds written to testdata stay decryptable.
const fuzzIdentity = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"

// fuzzSeeds adds documents encrypted for the fuzz identity in every format,
// under several rules and with a Shamir-split data key, plus malformed ones.
func fuzzSeeds(f *testing.F) *Decryptor {
	id, err := age.ParseX25519Identity(fuzzIdentity)
	if err != nil {
		f.Fatal(err)
	}
	mk, err := sopsage.MasterKeyFromRecipient(id.Recipient().String())
	if err != nil {
		f.Fatal(err)
	}
	mk2, err := sopsage.MasterKeyFromRecipient(id.Recipient().String())
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []struct{ name, plain string }{
		{"s.yaml", secretYAML},
		{"a.env", "A=1\nB=hunter2\n"},
		{"a.json", `{"a": [1, {"b": true}]}`},
		{"a.ini", "[s]\nk = v\n"},
		{"a.bin", "raw"},
		{"c.yaml", "# head\na: 1 # inline\nb:\n  - x # item\n  # between\n  - {c: 2.5}\nd: 2024-01-01T00:00:00Z\n"},
	} {
		f.Add(encrypt(f, c.name, []byte(c.plain), "", mk), c.name)
		f.Add(encryptDoc(f, c.name, []byte(c.plain), encOpts{rules: sops.Metadata{EncryptedRegex: "^(b|data|k)$", MACOnlyEncrypted: true}, groups: [][]keys.MasterKey{{mk}}}), c.name)
		f.Add(encryptDoc(f, c.name, []byte(c.plain), encOpts{rules: sops.Metadata{EncryptedCommentRegex: "item"}, groups: [][]keys.MasterKey{{mk}, {mk2}}, threshold: 2}), c.name)
	}
	f.Add([]byte("sops:\n  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n  version: 3.9.0\n"), "x.yaml")
	f.Add([]byte("apiVersion: v1\nkind: Secret\nsops: {mac: 1}\n"), "x.yaml")
	f.Add([]byte("a: &a [*a]\n"), "x.yaml")
	f.Add([]byte(`{"a": [1, [2, {"b": 3`), "x.json")
	d, err := NewDecryptor(map[string][]byte{"f.agekey": []byte(fuzzIdentity)})
	if err != nil {
		f.Fatal(err)
	}
	return d
}

// FuzzDecrypt feeds arbitrary documents to every entry point: none may
// panic, a plaintext decryption must come from an encrypted document, and
// decrypted output never echoes the key.
func FuzzDecrypt(f *testing.F) {
	d := fuzzSeeds(f)
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
		obj := fuzzObject(data)
		if obj == nil {
			return
		}
		_ = IsEncryptedObject(obj)
		_ = RequireNoneEncrypted([]*unstructured.Unstructured{obj})
		_ = d.DecryptObjects([]*unstructured.Unstructured{obj})
	})
}

// FuzzMatchesSOPS decrypts arbitrary documents with the package and with
// sops itself (see reference_test.go): both must succeed with the same
// output, or both fail.
func FuzzMatchesSOPS(f *testing.F) {
	d := fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		got, err := d.DecryptFile(name, data)
		want, refErr := refDecryptFile(d, name, data)
		if refErr != nil && strings.Contains(refErr.Error(), "unhashable type []uint8") {
			// sops panics on values of type bytes; the package reads them.
			return
		}
		switch {
		case (err == nil) != (refErr == nil):
			t.Fatalf("package error %v, sops error %v for %q", err, refErr, data)
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("outputs differ for %q\npackage: %q\nsops:    %q", data, got, want)
		}
		obj := fuzzObject(data)
		if obj == nil || !hasSOPSMetadata(obj) {
			return
		}
		wantObj, refErr := refDecryptObject(d, obj)
		if refErr != nil && strings.Contains(refErr.Error(), "unhashable type []uint8") {
			return
		}
		// The package also requires the result to keep an apiVersion and
		// a kind.
		refOK := refErr == nil && checkObject(wantObj) == nil
		err = d.DecryptObjects([]*unstructured.Unstructured{obj})
		switch {
		case (err == nil) != refOK:
			t.Fatalf("object: package error %v, sops error %v for %q", err, refErr, data)
		case err == nil && !reflect.DeepEqual(obj.Object, wantObj):
			t.Fatalf("objects differ for %q\npackage: %#v\nsops:    %#v", data, obj.Object, wantObj)
		}
	})
}

// fuzzObject reads data as an object, as the build hands objects over.
func fuzzObject(data []byte) *unstructured.Unstructured {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil
	}
	var m map[string]any
	if utiljson.Unmarshal(j, &m) != nil || m == nil {
		return nil
	}
	return &unstructured.Unstructured{Object: m}
}
