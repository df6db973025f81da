package bootstrap

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// writeKeyRing writes an armored secret key ring (encrypted with passphrase when set) and
// returns its path and the armored public key.
func writeKeyRing(t *testing.T, passphrase string) (string, string, *openpgp.Entity) {
	t.Helper()
	e, err := openpgp.NewEntity("Flux", "", "flux@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if passphrase != "" {
		if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
			t.Fatal(err)
		}
	}
	var priv bytes.Buffer
	w, _ = armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	p := filepath.Join(t.TempDir(), "ring.asc")
	if err := os.WriteFile(p, priv.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, pub.String(), e
}

func TestLoadGPGSigner(t *testing.T) {
	const pass = "s3cret passphrase"
	ring, pub, e := writeKeyRing(t, pass)
	keyID := e.PrimaryKey.KeyIdString()

	for _, tt := range []struct {
		name, path, pass, id, wantErr string
	}{
		{"no key ring", "", "", "", ""},
		{"id without ring", "", "", keyID, "need --gpg-key-ring"},
		{"missing file", filepath.Join(t.TempDir(), "none"), pass, "", "read --gpg-key-ring"},
		{"no passphrase", ring, "", "", "give its passphrase with --gpg-passphrase"},
		{"wrong passphrase", ring, "not-the-one", "", "wrong --gpg-passphrase"},
		{"unknown id", ring, pass, "DEADBEEF", "no key with ID DEADBEEF"},
		{"short id with 0x", ring, pass, "0x" + strings.ToLower(keyID[8:]), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			signer, err := LoadGPGSigner(tt.path, tt.pass, tt.id)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || (tt.pass != "" && strings.Contains(err.Error(), tt.pass)) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (signer == nil) != (tt.path == "") {
				t.Errorf("signer = %v", signer)
			}
		})
	}

	// A commit made with the signer verifies against the public key.
	signer, err := LoadGPGSigner(ring, pass, keyID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("main"))); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(dir, "a/file.yaml", []byte("x: 1\n")); err != nil {
		t.Fatal(err)
	}
	hash, err := commitFiles(dir, []string{"a/file.yaml"}, "signed", Author{Name: "Flux", Email: "flux@example.com"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(pub); err != nil {
		t.Errorf("signature does not verify: %v\n%s", err, c.PGPSignature)
	}
}
