package decrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/keys"
)

// swapLines swaps the first line that starts with a and the next line
// after it that starts with b ("" for a again).
func swapLines(t testing.TB, doc, a, b string) string {
	t.Helper()
	if b == "" {
		b = a
	}
	lines := strings.Split(doc, "\n")
	ia, ib := -1, -1
	for i, l := range lines {
		if ia < 0 && strings.HasPrefix(l, a) {
			ia = i
		} else if ia >= 0 && ib < 0 && strings.HasPrefix(l, b) {
			ib = i
		}
	}
	if ia < 0 || ib < 0 {
		t.Fatalf("%q or %q not in\n%s", a, b, doc)
	}
	lines[ia], lines[ib] = lines[ib], lines[ia]
	return strings.Join(lines, "\n")
}

var encValue = regexp.MustCompile(`ENC\[AES256_GCM,[^\]]*\]`)

// swapValues swaps the encrypted values of the first lines starting with a
// and with b, leaving the keys in place.
func swapValues(t testing.TB, doc, a, b string) string {
	t.Helper()
	lines := strings.Split(doc, "\n")
	ia, ib := -1, -1
	for i, l := range lines {
		if ia < 0 && strings.HasPrefix(l, a) {
			ia = i
		} else if ib < 0 && strings.HasPrefix(l, b) {
			ib = i
		}
	}
	if ia < 0 || ib < 0 {
		t.Fatalf("%q or %q not in\n%s", a, b, doc)
	}
	va, vb := encValue.FindString(lines[ia]), encValue.FindString(lines[ib])
	if va == "" || vb == "" {
		t.Fatalf("lines %q and %q are not both encrypted", lines[ia], lines[ib])
	}
	lines[ia] = strings.Replace(lines[ia], va, vb, 1)
	lines[ib] = strings.Replace(lines[ib], vb, va, 1)
	return strings.Join(lines, "\n")
}

// sealValue encrypts plain as SOPS stores a value, with any type name.
func sealValue(t testing.TB, plain []byte, typ, additionalData string) string {
	t.Helper()
	block, err := aes.NewCipher(testDataKey())
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, 32)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, 32)
	iv[0] = 7
	out := gcm.Seal(nil, iv, plain, []byte(additionalData))
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:%s]", enc(out[:len(out)-16]), enc(iv), enc(out[len(out)-16:]), typ)
}

// TestTampering changes encrypted documents the way an attacker without the
// key could, and checks the package refuses exactly what sops refuses.
func TestTampering(t *testing.T) {
	id, mk := ageKey(t)
	d, err := NewDecryptor(map[string][]byte{"k.agekey": []byte(id.String())})
	if err != nil {
		t.Fatal(err)
	}
	const yamlDoc = "alpha: first-secret\nbeta: second-secret\nlist:\n    - one-secret\n    - two-secret\nplain: visible-value\n# a comment\n"
	const jsonDoc = `{"alpha": "first-secret", "beta": "second-secret", "plain": "visible-value"}`
	const envDoc = "alpha=first-secret\nbeta=second-secret\nplain=visible-value\n"
	const iniDoc = "[s]\nalpha = first-secret\nbeta = second-secret\nplain = visible-value\n"
	group := [][]keys.MasterKey{{mk}}
	all := func(name, plain string) string {
		return string(encryptDoc(t, name, []byte(plain), encOpts{groups: group}))
	}
	some := func(name, plain string, macOnly bool) string {
		return string(encryptDoc(t, name, []byte(plain), encOpts{rules: sops.Metadata{EncryptedRegex: "^(alpha|beta|list)$", MACOnlyEncrypted: macOnly}, groups: group}))
	}
	other := func(name, plain string) string {
		// Same data key, other content and date: its MAC authenticates.
		return string(encryptDoc(t, name, []byte(strings.ReplaceAll(plain, "first", "other")), encOpts{groups: group}))
	}
	macLine := regexp.MustCompile(`(mac(?:"?: "?| *= *|=))ENC\[[^\]]*\]`)
	takeMAC := func(from, into string) string {
		return macLine.ReplaceAllString(into, "${1}"+encValue.FindString(macLine.FindString(from)))
	}
	typed := sealValue(t, []byte("first-secret"), "bytes", "alpha:")
	// Each document is encrypted once, so that values found in it can be
	// replaced in it.
	yamlAll, jsonAll, envAll, iniAll := all("a.yaml", yamlDoc), all("a.json", jsonDoc), all("a.env", envDoc), all("a.ini", iniDoc)
	replaceFirst := func(doc, old, new string) string {
		if !strings.Contains(doc, old) {
			t.Fatalf("%q not in\n%s", old, doc)
		}
		return strings.Replace(doc, old, new, 1)
	}

	tests := []struct {
		name, file, doc string
		want            string // "" for success
	}{
		{"yaml values swapped between keys", "a.yaml", swapValues(t, yamlAll, "alpha:", "beta:"), "does not decrypt"},
		{"yaml keys reordered", "a.yaml", swapLines(t, yamlAll, "alpha:", "beta:"), "MAC does not match"},
		{"yaml list elements reordered", "a.yaml", swapLines(t, yamlAll, "    - ENC", ""), "MAC does not match"},
		{"json keys reordered", "a.json", swapLines(t, jsonAll, "\t\"alpha\"", "\t\"beta\""), "MAC does not match"},
		{"json values swapped", "a.json", swapValues(t, jsonAll, "\t\"alpha\"", "\t\"beta\""), "does not decrypt"},
		{"dotenv lines reordered", "a.env", swapLines(t, envAll, "alpha=", "beta="), "MAC does not match"},
		{"ini lines reordered", "a.ini", swapLines(t, iniAll, "alpha", "beta"), "MAC does not match"},
		{"unencrypted value changed", "a.yaml", replaceFirst(some("a.yaml", yamlDoc, false), "visible-value", "changed"), "MAC does not match"},
		{"unencrypted keys reordered", "a.yaml", swapLines(t, some("a.yaml", "plain: visible-value\nother: x\nalpha: s\n", false), "plain:", "other:"), "MAC does not match"},
		{"mac_only_encrypted: unencrypted value changed", "a.yaml", replaceFirst(some("a.yaml", yamlDoc, true), "visible-value", "changed"), ""},
		{"mac_only_encrypted: encrypted keys reordered", "a.yaml", swapLines(t, some("a.yaml", yamlDoc, true), "alpha:", "beta:"), "MAC does not match"},
		{"mac of another file", "a.yaml", takeMAC(other("a.yaml", yamlDoc), yamlAll), "MAC"},
		{"mac of another dotenv file", "a.env", takeMAC(other("a.env", envDoc), envAll), "MAC"},
		{"mac of another ini file", "a.ini", takeMAC(other("a.ini", iniDoc), iniAll), "MAC"},
		{"lastmodified changed", "a.yaml", regexp.MustCompile(`lastmodified: "[^"]*"`).ReplaceAllString(yamlAll, `lastmodified: "2001-01-01T00:00:00Z"`), "MAC is corrupted"},
		{"lastmodified rewritten to the same instant", "a.yaml", regexp.MustCompile(`lastmodified: "([^"]*)Z"`).ReplaceAllString(yamlAll, `lastmodified: "${1}+00:00"`), ""},
		{"mac emptied", "a.yaml", macLine.ReplaceAllString(yamlAll, "${1}"), "MAC does not match"},
		{"mac removed", "a.yaml", macLine.ReplaceAllString(yamlAll, "version2: x"), "MAC does not match"},
		{"value type changed", "a.yaml", replaceFirst(yamlAll, "type:str]", "type:int]"), "does not decrypt"},
		{"bytes value in place of a string", "a.yaml", replaceFirst(yamlAll, encValue.FindString(yamlAll), typed), ""},
		{"encrypted comment corrupted", "a.yaml", corrupt(t, yamlAll, "#ENC[AES256_GCM,data:"), ""},
		{"plaintext where ciphertext belongs", "a.yaml", replaceFirst(yamlAll, encValue.FindString(yamlAll), "first-secret"), "does not decrypt"},
		{"number where ciphertext belongs", "a.json", replaceFirst(jsonAll, `"`+encValue.FindString(jsonAll)+`"`, "12345"), "does not decrypt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, orig := range []string{yamlAll, jsonAll, envAll, iniAll} {
				if tt.doc == orig {
					t.Fatal("the document was not changed")
				}
			}
			var (
				out []byte
				err error
			)
			if tt.name == "bytes value in place of a string" {
				// sops (3.13) panics on values of type bytes, which its
				// Python predecessor wrote; the package decrypts them.
				if _, refErr := refDecryptFile(d, tt.file, []byte(tt.doc)); refErr == nil || !strings.Contains(refErr.Error(), "unhashable") {
					t.Errorf("sops now decrypts values of type bytes (%v): compare with it", refErr)
				}
				out, err = d.DecryptFile(tt.file, []byte(tt.doc))
				if want, _ := d.DecryptFile(tt.file, []byte(yamlAll)); err == nil && string(out) != string(want) {
					t.Errorf("got\n%s\nwant\n%s", out, want)
				}
			} else {
				out, err = assertMatchesSOPS(t, d, tt.file, []byte(tt.doc))
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v for\n%s", err, tt.doc)
			case tt.want != "" && err == nil:
				t.Fatalf("no error, got\n%s", out)
			case err != nil && !strings.Contains(err.Error(), tt.want):
				t.Errorf("%q does not contain %q", err, tt.want)
			}
			if err != nil {
				assertNoLeak(t, err.Error(), "first-secret", "second-secret", "one-secret", "two-secret", "visible-value", id.String())
			}
		})
	}
}
