package decrypt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3/keys"
)

func TestDecryptFile(t *testing.T) {
	id, ageMK := ageKey(t)
	priv, pgpMK := pgpKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	d, err := NewDecryptor(map[string][]byte{"a.agekey": []byte(id.String()), "b.asc": priv})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, plain string
	}{
		{"secrets.env", "DB_PASSWORD=hunter2\nDB_USER=admin\n"},
		{"app/values.yaml", "password: hunter2\nnested:\n    list:\n        - a\n        - 1\n"},
		{"conf.yml", "# a comment\nkey: value\n"},
		{"creds.json", "{\n\t\"password\": \"hunter2\",\n\t\"n\": 3\n}\n"},
		{"settings.ini", "[db]\npassword = hunter2\n"},
		{"cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
		{"raw", "\x00\x01binary\xff"},
		{"multi.yaml", "a: 1\n---\nb: hunter2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mk := range []keys.MasterKey{ageMK, pgpMK} {
				enc := encrypt(t, tt.name, []byte(tt.plain), "", mk)
				if bytes.Contains(enc, []byte("hunter2")) {
					t.Fatalf("not encrypted:\n%s", enc)
				}
				if !IsEncryptedData(enc) {
					t.Fatalf("IsEncryptedData false for\n%s", enc)
				}
				got, err := d.DecryptFile(tt.name, enc)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.plain {
					t.Errorf("got %q, want %q", got, tt.plain)
				}
			}
		})
	}
}

// TestDecryptFileByContent covers generator files whose name gives no
// format: the content decides.
func TestDecryptFileByContent(t *testing.T) {
	id, mk := ageKey(t)
	d, err := NewDecryptor(map[string][]byte{"a.agekey": []byte(id.String())})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ format, plain string }{
		{"x.env", "A=hunter2\n"},
		{"x.ini", "[s]\na = hunter2\n"},
		{"x.yaml", "a: hunter2\n"},
		{"x.bin", "hunter2"},
	} {
		enc := encrypt(t, c.format, []byte(c.plain), "", mk)
		got, err := d.DecryptFile("no-extension", enc)
		if err != nil || string(got) != c.plain {
			t.Errorf("%s: got %q, %v", c.format, got, err)
		}
	}
}

func TestDecryptFileErrors(t *testing.T) {
	id, mk := ageKey(t)
	other, _ := ageKey(t)
	enc := string(encrypt(t, "app.env", []byte("PASSWORD=hunter2\nUSER=admin\n"), "", mk))
	encYAML := string(encrypt(t, "v.yaml", []byte("user: admin\npassword: hunter2\n"), "^password$", mk))
	good := map[string][]byte{"k.agekey": []byte(id.String())}
	tests := []struct {
		name, path, doc string
		secret          map[string][]byte
		want            []string
	}{
		{"wrong key", "base/app.env", enc, map[string][]byte{"k.agekey": []byte(other.String())},
			[]string{"file 'base/app.env'", "no decryption key matches", mk.Recipient, "1 age identity"}},
		{"corrupted MAC", "app.env", corrupt(t, enc, "sops_mac=ENC[AES256_GCM,data:"), good,
			[]string{"file 'app.env'", "MAC is corrupted"}},
		{"unencrypted value changed", "v.yaml", strings.Replace(encYAML, "user: admin", "user: root", 1), good,
			[]string{"file 'v.yaml'", "MAC does not match"}},
		{"value removed", "v.yaml", strings.Replace(encYAML, "user: admin\n", "", 1), good,
			[]string{"MAC does not match"}},
		{"not sops", "plain.env", "PASSWORD=hunter2\n", good,
			[]string{"file 'plain.env' is not a SOPS-encrypted dotenv document"}},
		{"garbage yaml", "x.yaml", "password: hunter2\n  bad: [\n", good,
			[]string{"file 'x.yaml' is not a SOPS-encrypted YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDecryptor(tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			out, err := d.DecryptFile(tt.path, []byte(tt.doc))
			if err == nil {
				t.Fatalf("no error, got %q", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			assertNoLeak(t, err.Error(), "hunter2", "admin", id.String(), other.String())
		})
	}
}

func TestIsEncryptedData(t *testing.T) {
	_, mk := ageKey(t)
	for _, name := range []string{"a.yaml", "a.json", "a.env", "a.ini", "a.bin"} {
		if enc := encrypt(t, name, []byte(plainFor(name)), "", mk); !IsEncryptedData(enc) {
			t.Errorf("%s: not detected:\n%s", name, enc)
		}
	}
	for _, plain := range []string{"", "a: b\n", "sops:\n  mac: plain\n", `{"mac": "x"}`, "value: ENC[AES256_GCM,data:abc]\n"} {
		if IsEncryptedData([]byte(plain)) {
			t.Errorf("%q detected as encrypted", plain)
		}
	}
}

func plainFor(name string) string {
	switch {
	case strings.HasSuffix(name, ".json"):
		return `{"k": "v"}`
	case strings.HasSuffix(name, ".env"):
		return "K=v\n"
	case strings.HasSuffix(name, ".ini"):
		return "[s]\nk = v\n"
	case strings.HasSuffix(name, ".bin"):
		return "raw"
	}
	return "k: v\n"
}
