package decrypt

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/keys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Documents that exercise every value type, nesting, comments and the
// quirks of each format. Every one has keys that the rules below select:
// password, nested, token_secret, note_plain, and comments with the
// markers sops:enc and sops:plain.
var compatDocs = []struct{ name, plain string }{
	{"all.yaml", `# top comment
string: hello world
empty: ""
quoted: "with: colon # and hash"
multiline: |
    line one
    line two
folded: >
    folded
    text
int: 42
negative: -7
big: 9223372036854775807
float: 3.14159
exp: 1.0e+10
whole_float: 3.0
bool_true: true
bool_false: false
null_value: null
tilde: ~
timestamp: 2024-01-02T03:04:05Z
date: 2001-12-14
unicode: "héllo wörld ✓ \u0000"
password: hunter2 # inline comment
token_secret: s3cr3t
note_plain: readable
# sops:enc
commented_enc: marked for encryption
# sops:plain
commented_plain: marked as plaintext
nested:
    # comment in a mapping
    a:
        b:
            c: deep   # deep inline
    list:
        - one
        # comment in a list
        - 2
        - 3.5
        - true
        - null
        - {k: v, n: 1}
        - [x, y, [z]]
        - # sops:enc
          inner: value
    empty_map: {}
    empty_list: []
anchors:
    base: &base
        name: shared
        port: 80
    derived:
        <<: *base
        port: 8080
    ref: *base
    scalar_ref: &s anchored
    again: *s
key_unencrypted: visible
parent_unencrypted:
    child: also visible
# trailing comment
`},
	{"stream.yaml", "---\n# first\na: 1\npassword: hunter2\n---\nb: [1, 2]\nnested: {c: d}\n...\n---\n# only a comment\nc: 3\n"},
	{"flow.yml", "{password: hunter2, list: [1, 2, {a: b}], note_plain: x}\n"},
	{"all.json", `{
  "string": "hello",
  "html": "<a href=\"x\">&amp;</a>",
  "escapes": "tab\tnewline\nquote\"backslash\\ \u0001",
  "unicode": "h\u00e9llo \ud83d\ude00",
  "int": 42,
  "negative": -7,
  "big": 18446744073709551615,
  "float": 3.25,
  "exp": 1e-7,
  "whole": 3.0,
  "true": true,
  "false": false,
  "null": null,
  "empty": "",
  "password": "hunter2",
  "token_secret": "s3cr3t",
  "note_plain": {"visible": [1, 2]},
  "nested": {"a": {"b": [1, "two", {"three": 3}, [4, [5]], [], {}]}, "e": {}},
  "dup": 1,
  "dup": 2
}`},
	{"compact.json", `{"password":"hunter2","nested":[{"a":1},{"b":[true,false,null]}],"n":-0.5}`},
	{"all.env", `# comment line
DB_PASSWORD=hunter2
password=hunter2
EMPTY=
WITH_EQUALS=a=b=c
SPACES = value with spaces 
MULTI=line1\nline2
QUOTED="quoted value"
token_secret=s3cr3t
note_plain=visible
#sops:enc
commented_enc=marked
UNICODE=héllo ✓
`},
	{"all.ini", `top_level = in the default section
password = default-section-secret

; comment before a section
[database]
user = admin
; a key comment
password = hunter2
port = 5432
token_secret = s3cr3t

[empty]

[quoted]
value = "with ; semicolon"
path = C:\dir
note_plain = visible
[nested]
multi = """line one
line two"""
[database]
dup = second section with the same name
`},
	{"blob.bin", "\x00\x01\x02binary\xff\xfe ENC[AES256_GCM,data:x] \"quoted\" \\ \n\r\t"},
	{"cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
}

// compatRules are the sops encryption rule sets every document is
// encrypted with.
var compatRules = []struct {
	name  string
	rules sops.Metadata
}{
	{"default", sops.Metadata{}},
	{"encrypted_regex", sops.Metadata{EncryptedRegex: "^(password|nested|DB_PASSWORD|database)$"}},
	{"unencrypted_regex", sops.Metadata{UnencryptedRegex: "^(int|string|password|quoted)$"}},
	{"encrypted_suffix", sops.Metadata{EncryptedSuffix: "_secret"}},
	{"unencrypted_suffix", sops.Metadata{UnencryptedSuffix: "_plain"}},
	{"encrypted_comment_regex", sops.Metadata{EncryptedCommentRegex: "sops:enc"}},
	{"unencrypted_comment_regex", sops.Metadata{UnencryptedCommentRegex: "sops:plain"}},
	{"mac_only_encrypted", sops.Metadata{MACOnlyEncrypted: true}},
	{"mac_only_encrypted with regex", sops.Metadata{MACOnlyEncrypted: true, EncryptedRegex: "^(password|nested)$"}},
	{"invalid regex", sops.Metadata{EncryptedRegex: "(["}},
}

// assertMatchesSOPS decrypts enc with the package and with sops (the
// reference) and fails unless both succeed with the same bytes or both
// fail. It returns the package's result.
func assertMatchesSOPS(t testing.TB, d *Decryptor, name string, enc []byte) ([]byte, error) {
	t.Helper()
	got, err := d.DecryptFile(name, enc)
	want, refErr := refDecryptFile(d, name, enc)
	switch {
	case (err == nil) != (refErr == nil):
		t.Fatalf("%s: package error %v, sops error %v\ndocument:\n%s", name, err, refErr, enc)
	case err == nil && !bytes.Equal(got, want):
		t.Fatalf("%s: package output differs from sops\n--- package:\n%s\n--- sops:\n%s", name, got, want)
	}
	return got, err
}

// TestMatchesSOPS encrypts every document with sops under every rule set
// and checks that the package decrypts it to exactly what sops does.
func TestMatchesSOPS(t *testing.T) {
	id, mk := ageKey(t)
	d, err := NewDecryptor(map[string][]byte{"k.agekey": []byte(id.String())})
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range compatDocs {
		for _, r := range compatRules {
			t.Run(doc.name+"/"+r.name, func(t *testing.T) {
				enc := encryptDoc(t, doc.name, []byte(doc.plain), encOpts{rules: r.rules, groups: [][]keys.MasterKey{{mk}}})
				got, err := assertMatchesSOPS(t, d, doc.name, enc)
				plainData := strings.Contains(string(enc), `"data": "`) && !strings.Contains(string(enc), `"data": "ENC[`)
				if plainData {
					// A binary file whose data a rule left in plaintext: its
					// invalid UTF-8 did not survive the JSON envelope, which
					// both sops and the package notice (or not, when the MAC
					// covers encrypted values only).
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.name == "default" && strings.Contains(string(enc), "hunter2") {
					t.Errorf("not encrypted:\n%s", enc)
				}
				if strings.HasSuffix(doc.name, ".bin") || strings.HasSuffix(doc.name, ".pem") {
					if string(got) != doc.plain {
						t.Errorf("got %q, want %q", got, doc.plain)
					}
				}
			})
		}
	}
}

// TestMatchesSOPSKeyGroups covers Shamir-split data keys (the metadata of
// dotenv and INI files flattens the key_groups lists) and OpenPGP keys.
func TestMatchesSOPSKeyGroups(t *testing.T) {
	id1, mk1 := ageKey(t)
	id2, mk2 := ageKey(t)
	_, mk3 := ageKey(t)
	priv, pgpMK := pgpKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	groups := [][]keys.MasterKey{{mk1}, {mk2, pgpMK}, {mk3}}
	two, err := NewDecryptor(map[string][]byte{"1.agekey": []byte(id1.String()), "2.agekey": []byte(id2.String())})
	if err != nil {
		t.Fatal(err)
	}
	ageAndPGP, err := NewDecryptor(map[string][]byte{"1.agekey": []byte(id1.String()), "p.asc": priv})
	if err != nil {
		t.Fatal(err)
	}
	one, err := NewDecryptor(map[string][]byte{"2.agekey": []byte(id2.String())})
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range compatDocs {
		t.Run(doc.name, func(t *testing.T) {
			enc := encryptDoc(t, doc.name, []byte(doc.plain), encOpts{groups: groups, threshold: 2})
			for _, d := range []*Decryptor{two, ageAndPGP} {
				if _, err := assertMatchesSOPS(t, d, doc.name, enc); err != nil {
					t.Fatal(err)
				}
			}
			_, err := assertMatchesSOPS(t, one, doc.name, enc)
			if err == nil || !strings.Contains(err.Error(), "3 key groups (age recipient "+mk1.Recipient) || !strings.Contains(err.Error(), "2 of which are needed") {
				t.Fatalf("one share of two: %v", err)
			}
			// Every group needed, one group's keys only.
			enc = encryptDoc(t, doc.name, []byte(doc.plain), encOpts{groups: [][]keys.MasterKey{{mk1}, {pgpMK}}, threshold: 2})
			if _, err := assertMatchesSOPS(t, ageAndPGP, doc.name, enc); err != nil {
				t.Fatal(err)
			}
			// OpenPGP alone, one group.
			enc = encryptDoc(t, doc.name, []byte(doc.plain), encOpts{groups: [][]keys.MasterKey{{pgpMK}}})
			if _, err := assertMatchesSOPS(t, ageAndPGP, doc.name, enc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMatchesSOPSObjects decrypts objects (the kustomize build output) with
// the package and with sops, under every rule set.
func TestMatchesSOPSObjects(t *testing.T) {
	id, mk := ageKey(t)
	d, err := NewDecryptor(map[string][]byte{"k.agekey": []byte(id.String())})
	if err != nil {
		t.Fatal(err)
	}
	plain := `apiVersion: example.com/v1
kind: Config
metadata:
  name: c
  labels: {app: x}
spec:
  password: hunter2
  token_secret: s3cr3t
  note_plain: visible
  replicas: 3
  ratio: 1.5
  enabled: true
  when: 2024-01-02T03:04:05Z
  # sops:enc
  list: [a, 2, {k: v}, [n]]
  nested: {k: v, empty: {}}
  nothing: null
`
	for _, r := range compatRules {
		t.Run(r.name, func(t *testing.T) {
			enc := encryptDoc(t, "c.yaml", []byte(plain), encOpts{rules: r.rules, groups: [][]keys.MasterKey{{mk}}})
			obj := toObject(t, enc)
			want, refErr := refDecryptObject(d, obj)
			if refErr != nil {
				t.Fatal(refErr)
			}
			if err := d.DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(obj.Object, want) {
				t.Errorf("package:\n%#v\nsops:\n%#v", obj.Object, want)
			}
		})
	}
}
