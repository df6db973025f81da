package bootstrap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	gogit "github.com/go-git/go-git/v5"
)

// gpgSigner signs commits with an OpenPGP entity (its signing subkey when it has one).
type gpgSigner struct{ entity *openpgp.Entity }

func (s *gpgSigner) Sign(message io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, s.entity, message, nil); err != nil {
		return nil, fmt.Errorf("sign the commit with OpenPGP key %s: %w", s.entity.PrimaryKey.KeyIdString(), err)
	}
	return buf.Bytes(), nil
}

// LoadGPGSigner reads the key ring at path (armored, as `gpg --export-secret-keys --armor`
// writes it, or binary), picks the key whose ID (long or short, any case, with or without
// 0x) or fingerprint ends in keyID, or the first key with a private part when keyID is
// empty, and decrypts it and its subkeys with passphrase. An empty path means unsigned
// commits (nil, nil). Errors name the file and the key, never the passphrase.
func LoadGPGSigner(path, passphrase, keyID string) (gogit.Signer, error) {
	if path == "" {
		if keyID != "" || passphrase != "" {
			return nil, errors.New("--gpg-key-id and --gpg-passphrase need --gpg-key-ring")
		}
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --gpg-key-ring: %w", err)
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		if ring, err = openpgp.ReadKeyRing(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("--gpg-key-ring %s is not an OpenPGP key ring: %w", path, err)
		}
	}
	entity, err := pickEntity(ring, keyID)
	if err != nil {
		return nil, fmt.Errorf("--gpg-key-ring %s: %w", path, err)
	}
	if err := decryptEntity(entity, passphrase); err != nil {
		return nil, fmt.Errorf("--gpg-key-ring %s: key %s: %w", path, entity.PrimaryKey.KeyIdString(), err)
	}
	return &gpgSigner{entity: entity}, nil
}

func pickEntity(ring openpgp.EntityList, keyID string) (*openpgp.Entity, error) {
	want := strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(keyID), "0x"), "0X"))
	matches := func(e *openpgp.Entity) bool {
		if want == "" {
			return true
		}
		ids := []string{e.PrimaryKey.KeyIdString(), fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)}
		for _, sk := range e.Subkeys {
			ids = append(ids, sk.PublicKey.KeyIdString(), fmt.Sprintf("%X", sk.PublicKey.Fingerprint))
		}
		for _, id := range ids {
			if strings.HasSuffix(strings.ToUpper(id), want) {
				return true
			}
		}
		return false
	}
	found := false
	for _, e := range ring {
		if !matches(e) {
			continue
		}
		found = true
		if e.PrivateKey != nil {
			return e, nil
		}
	}
	switch {
	case found:
		return nil, fmt.Errorf("key %s has no private key to sign with", keyID)
	case want != "":
		return nil, fmt.Errorf("no key with ID %s", keyID)
	}
	return nil, errors.New("no private key to sign with")
}

// decryptEntity decrypts the primary key and every subkey that is encrypted: a ring whose
// signing subkey is encrypted (and the primary key only certifies) must work too.
func decryptEntity(e *openpgp.Entity, passphrase string) error {
	encrypted := e.PrivateKey != nil && e.PrivateKey.Encrypted
	for _, sk := range e.Subkeys {
		encrypted = encrypted || (sk.PrivateKey != nil && sk.PrivateKey.Encrypted)
	}
	if !encrypted {
		return nil
	}
	if passphrase == "" {
		return errors.New("the private key is encrypted: give its passphrase with --gpg-passphrase")
	}
	if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
		return errors.New("wrong --gpg-passphrase")
	}
	return nil
}
