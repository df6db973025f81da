package gitserver

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Signer signs a commit or tag the way git does: payload is the object
// encoded without its signature, the result is the armored signature that
// goes into a commit's gpgsig header or after a tag's message.
type Signer interface {
	Sign(payload []byte) (string, error)
}

// OpenPGPKey is a freshly generated OpenPGP key (EdDSA, readable by GnuPG 2.2+).
type OpenPGPKey struct {
	Entity *openpgp.Entity
}

// NewOpenPGPKey generates a signing key for the identity name <email>.
func NewOpenPGPKey(name, email string) (*OpenPGPKey, error) {
	e, err := openpgp.NewEntity(name, "", email, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		return nil, fmt.Errorf("generate OpenPGP key for %s: %w", email, err)
	}
	return &OpenPGPKey{Entity: e}, nil
}

// Sign returns an armored detached signature over payload.
func (k *OpenPGPKey) Sign(payload []byte) (string, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, k.Entity, bytes.NewReader(payload), nil); err != nil {
		return "", fmt.Errorf("OpenPGP sign with key %s: %w", k.KeyID(), err)
	}
	return b.String(), nil
}

// KeyID is the primary key's long ID in upper-case hex, as gpg prints it.
func (k *OpenPGPKey) KeyID() string { return k.Entity.PrimaryKey.KeyIdString() }

// PublicKeyArmored is the ASCII-armored public key block, the format Flux
// expects in a verification Secret.
func (k *OpenPGPKey) PublicKeyArmored() (string, error) {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return "", err
	}
	if err := k.Entity.Serialize(w); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// SSHSigningKey is a freshly generated ed25519 key for SSH commit signing
// (git's gpg.format=ssh).
type SSHSigningKey struct {
	signer  ssh.Signer
	private []byte
}

// NewSSHSigningKey generates an ed25519 SSH key.
func NewSSHSigningKey() (*SSHSigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return sshKeyFrom(priv)
}

func sshKeyFrom(priv ed25519.PrivateKey) (*SSHSigningKey, error) {
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	return &SSHSigningKey{signer: signer, private: pem.EncodeToMemory(block)}, nil
}

// Sign returns an armored SSH signature ("-----BEGIN SSH SIGNATURE-----") in
// the "git" namespace with SHA-512, as git's ssh-keygen -Y sign produces.
func (k *SSHSigningKey) Sign(payload []byte) (string, error) {
	sig, err := sshsig.Sign(bytes.NewReader(payload), k.signer, sshsig.HashSHA512, "git")
	if err != nil {
		return "", fmt.Errorf("SSH sign with key %s: %w", k.Fingerprint(), err)
	}
	return string(sshsig.Armor(sig)), nil
}

// AuthorizedKey is the public key in authorized_keys format (with newline).
func (k *SSHSigningKey) AuthorizedKey() []byte {
	return ssh.MarshalAuthorizedKey(k.signer.PublicKey())
}

// Fingerprint is the SHA256 fingerprint ("SHA256:...") of the public key.
func (k *SSHSigningKey) Fingerprint() string {
	return ssh.FingerprintSHA256(k.signer.PublicKey())
}

// PrivateKeyPEM is the private key in OpenSSH PEM format, e.g. for
// git -c user.signingkey=<file>.
func (k *SSHSigningKey) PrivateKeyPEM() []byte { return k.private }
