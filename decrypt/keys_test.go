package decrypt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestNewDecryptorAgeEntries(t *testing.T) {
	id1, _ := ageKey(t)
	id2, mk2 := ageKey(t)
	id3, mk3 := ageKey(t)
	d, err := NewDecryptor(map[string][]byte{
		"keys.agekey":       []byte("# created: 2024-01-01\r\n# public key: age1...\r\n" + id1.String() + "\r\n\r\n" + id2.String() + "\r\n"),
		"other.agekey":      []byte("  " + id3.String() + "  \n"),
		"sops.vault-token":  []byte("hvs.not-used"),
		"identity.agekey.x": []byte("ignored: wrong suffix"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ageIdentities) != 3 || len(d.pgpKeys) != 0 {
		t.Fatalf("%d age identities, %d pgp keys", len(d.ageIdentities), len(d.pgpKeys))
	}
	for i, enc := range [][]byte{
		encrypt(t, "a.env", []byte("A=1\n"), "", mk2),
		encrypt(t, "a.env", []byte("A=1\n"), "", mk3),
	} {
		if out, err := d.DecryptFile("a.env", enc); err != nil || string(out) != "A=1\n" {
			t.Errorf("file %d: %q, %v", i, out, err)
		}
	}
	if d, err := NewDecryptor(nil); err != nil || d.describeKeys() != "0 age identities and 0 OpenPGP keys from the decryption Secret" {
		t.Fatalf("nil map: %v", err)
	}
}

func TestNewDecryptorErrors(t *testing.T) {
	id, _ := ageKey(t)
	leaky := "AGE-SECRET-KEY-1QQQQ-NOT-A-KEY"
	sshKey := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
	protected := protectedPGPKey(t)
	public := publicPGPKey(t)
	tests := []struct {
		name string
		data map[string][]byte
		want []string
	}{
		{"bad age line", map[string][]byte{"k.agekey": []byte(id.String() + "\n" + leaky + "\n")}, []string{"'k.agekey'", "line 2 is not an age identity"}},
		{"ssh key as age", map[string][]byte{"k.agekey": []byte(sshKey)}, []string{"'k.agekey'", "line 1"}},
		{"empty age entry", map[string][]byte{"k.agekey": []byte("# nothing\n\n")}, []string{"'k.agekey' holds no age identity"}},
		{"garbage pgp", map[string][]byte{"k.asc": []byte(leaky)}, []string{"'k.asc' is not an armored OpenPGP key ring"}},
		{"public pgp key", map[string][]byte{"k.asc": public}, []string{"'k.asc' holds no OpenPGP private key"}},
		{"passphrase pgp key", map[string][]byte{"k.asc": protected}, []string{"'k.asc'", "protected by a passphrase"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDecryptor(tt.data)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			assertNoLeak(t, err.Error(), leaky, id.String(), "b3BlbnNzaC1rZXktdjEAAAAA", "PGP PRIVATE KEY", "PGP PUBLIC KEY")
		})
	}
}

func protectedPGPKey(t *testing.T) []byte {
	t.Helper()
	e, err := openpgp.NewEntity("P", "", "p@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EncryptPrivateKeys([]byte("passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func publicPGPKey(t *testing.T) []byte {
	t.Helper()
	e, err := openpgp.NewEntity("P", "", "p@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}
