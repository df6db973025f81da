package update

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	gogit "github.com/go-git/go-git/v5"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
)

// Keys of the .spec.git.commit.signingKey Secret.
const (
	SigningKeyOpenPGP    = "git.asc"    // type gpg: armored private key
	SigningKeyPassphrase = "passphrase" // type gpg: its passphrase
	SigningKeySSH        = "identity"   // type ssh: OpenSSH private key
	SigningKeySSHPass    = "password"   // type ssh: its passphrase
)

// SigningError is a signing Secret that cannot be used (a stalling failure). It names the
// Secret key, never key material.
type SigningError struct{ Msg string }

func (e *SigningError) Error() string { return "invalid signing key: " + e.Msg }

// NewSigner builds the commit signer for .spec.git.commit.signingKey from its Secret's data;
// keyType is .signingKey.type ("" or "gpg" for OpenPGP, "ssh").
func NewSigner(keyType string, data map[string][]byte) (gogit.Signer, error) {
	switch keyType {
	case "", imagev1.SigningKeyTypeGPG:
		return newOpenPGPSigner(data)
	case imagev1.SigningKeyTypeSSH:
		return newSSHSigner(data)
	}
	return nil, &SigningError{Msg: fmt.Sprintf(".spec.git.commit.signingKey.type %q is not gpg or ssh", keyType)}
}

type openPGPSigner struct{ entity *openpgp.Entity }

func newOpenPGPSigner(data map[string][]byte) (gogit.Signer, error) {
	armored, ok := data[SigningKeyOpenPGP]
	if !ok || len(bytes.TrimSpace(armored)) == 0 {
		return nil, &SigningError{Msg: fmt.Sprintf("the Secret has no '%s'", SigningKeyOpenPGP)}
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, &SigningError{Msg: fmt.Sprintf("'%s' is not an armored OpenPGP key: %v", SigningKeyOpenPGP, err)}
	}
	var entity *openpgp.Entity
	for _, e := range ring {
		if e.PrivateKey != nil {
			entity = e
			break
		}
	}
	if entity == nil {
		return nil, &SigningError{Msg: fmt.Sprintf("'%s' holds no private key", SigningKeyOpenPGP)}
	}
	pass := data[SigningKeyPassphrase]
	if entity.PrivateKey.Encrypted {
		if len(pass) == 0 {
			return nil, &SigningError{Msg: fmt.Sprintf("the private key in '%s' is encrypted and '%s' is missing", SigningKeyOpenPGP, SigningKeyPassphrase)}
		}
		if err := entity.DecryptPrivateKeys(pass); err != nil {
			return nil, &SigningError{Msg: fmt.Sprintf("cannot decrypt '%s' with '%s': %v", SigningKeyOpenPGP, SigningKeyPassphrase, err)}
		}
	}
	return &openPGPSigner{entity: entity}, nil
}

func (s *openPGPSigner) Sign(message io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, s.entity, message, nil); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type sshSigner struct{ signer ssh.Signer }

func newSSHSigner(data map[string][]byte) (gogit.Signer, error) {
	pemBytes := data[SigningKeySSH]
	if len(bytes.TrimSpace(pemBytes)) == 0 {
		return nil, &SigningError{Msg: fmt.Sprintf("the Secret has no '%s'", SigningKeySSH)}
	}
	if !strings.Contains(string(pemBytes), "-----BEGIN OPENSSH PRIVATE KEY-----") {
		return nil, &SigningError{Msg: fmt.Sprintf("'%s' must be an OpenSSH private key (convert PKCS#1 or PKCS#8 keys with ssh-keygen -p)", SigningKeySSH)}
	}
	var (
		signer ssh.Signer
		err    error
	)
	if pass := data[SigningKeySSHPass]; len(pass) > 0 {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, pass)
	} else {
		signer, err = ssh.ParsePrivateKey(pemBytes)
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, &SigningError{Msg: fmt.Sprintf("the key in '%s' is encrypted and '%s' is missing", SigningKeySSH, SigningKeySSHPass)}
	case err != nil:
		return nil, &SigningError{Msg: fmt.Sprintf("cannot parse '%s': %v", SigningKeySSH, err)}
	}
	return &sshSigner{signer: signer}, nil
}

func (s *sshSigner) Sign(message io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(message, s.signer, sshsig.HashSHA512, "git")
	if err != nil {
		return nil, err
	}
	return sshsig.Armor(sig), nil
}
