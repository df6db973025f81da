package update

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"golang.org/x/crypto/ssh"

	"gotk.dev/pkg/git"
)

// openPGPKey returns an armored private key protected by passphrase and its armored public key.
func openPGPKey(t *testing.T, passphrase string) (private, public []byte) {
	t.Helper()
	e, err := openpgp.NewEntity("Flux Bot", "", "fluxcdbot@users.noreply.github.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
		t.Fatal(err)
	}
	var priv bytes.Buffer
	w, err = armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	return priv.Bytes(), pub.Bytes()
}

// pushedCommit clones the pushed branch and returns its tip as pkg/git sees it.
func pushedCommit(t *testing.T, url string, auth *git.AuthOptions, branch string) *git.Commit {
	t.Helper()
	c, err := git.NewClient(git.ClientOptions{}).Clone(testContext(t), url, t.TempDir(), auth, git.CheckoutRef{Branch: branch}, git.CloneOptions{ShallowIfPossible: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunSignsWithOpenPGP(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	priv, pub := openPGPKey(t, "key-passphrase")
	signer, err := NewSigner("gpg", map[string][]byte{SigningKeyOpenPGP: priv, SigningKeyPassphrase: []byte("key-passphrase")})
	if err != nil {
		t.Fatal(err)
	}
	opts.Signer = signer
	res, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	commit := pushedCommit(t, opts.URL, opts.Auth, "main")
	if commit.Hash != res.Commit || !strings.HasPrefix(commit.Signature, "-----BEGIN PGP SIGNATURE-----") {
		t.Fatalf("pushed commit %s is not signed: %q", commit.Hash, commit.Signature)
	}
	who, err := commit.Verify(git.VerificationKeys{OpenPGP: []string{string(pub)}})
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if who == "" {
		t.Error("verification names no key")
	}

	// And the real git with gpg agrees.
	home := t.TempDir()
	gpg := func(args ...string) string {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "all")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		_ = cmd.Run()
	})
	pubFile := filepath.Join(t.TempDir(), "pub.asc")
	if err := os.WriteFile(pubFile, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	gpg("gpg", "--batch", "--import", pubFile)
	if out := gpg("git", "--git-dir", s.Path("app"), "verify-commit", "-v", res.Commit); !strings.Contains(out, "Good signature") {
		t.Fatalf("git verify-commit: %s", out)
	}
}

func TestRunSignsWithSSH(t *testing.T) {
	t.Parallel()
	_, opts := httpServer(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(key, "flux", []byte("ssh-key-pass"))
	if err != nil {
		t.Fatal(err)
	}
	sshSigner, _ := ssh.NewSignerFromKey(key)
	signer, err := NewSigner("ssh", map[string][]byte{SigningKeySSH: pem.EncodeToMemory(block), SigningKeySSHPass: []byte("ssh-key-pass")})
	if err != nil {
		t.Fatal(err)
	}
	opts.Signer = signer
	if _, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts); err != nil {
		t.Fatal(err)
	}
	commit := pushedCommit(t, opts.URL, opts.Auth, "main")
	if _, err := commit.Verify(git.VerificationKeys{SSH: [][]byte{ssh.MarshalAuthorizedKey(sshSigner.PublicKey())}}); err != nil {
		t.Fatalf("SSH signature does not verify: %v (%q)", err, commit.Signature)
	}
}

func TestNewSignerErrors(t *testing.T) {
	priv, _ := openPGPKey(t, "right")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	encBlock, _ := ssh.MarshalPrivateKeyWithPassphrase(key, "", []byte("pass"))
	pkcs8Block, _ := ssh.MarshalPrivateKey(key, "")
	pkcs8Block.Type = "PRIVATE KEY"
	tests := []struct {
		name, typ string
		data      map[string][]byte
		want      string
	}{
		{name: "no key", data: map[string][]byte{}, want: "the Secret has no 'git.asc'"},
		{name: "not a key", data: map[string][]byte{SigningKeyOpenPGP: []byte("hello")}, want: "'git.asc' is not an armored OpenPGP key"},
		{name: "no passphrase", data: map[string][]byte{SigningKeyOpenPGP: priv}, want: "'passphrase' is missing"},
		{name: "wrong passphrase", data: map[string][]byte{SigningKeyOpenPGP: priv, SigningKeyPassphrase: []byte("wrong")}, want: "cannot decrypt 'git.asc'"},
		{name: "unknown type", typ: "x509", data: nil, want: `signingKey.type "x509"`},
		{name: "ssh no identity", typ: "ssh", data: map[string][]byte{}, want: "the Secret has no 'identity'"},
		{name: "ssh encrypted", typ: "ssh", data: map[string][]byte{SigningKeySSH: pem.EncodeToMemory(encBlock)}, want: "'password' is missing"},
		{name: "ssh not openssh", typ: "ssh", data: map[string][]byte{SigningKeySSH: pem.EncodeToMemory(pkcs8Block)}, want: "must be an OpenSSH private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSigner(tt.typ, tt.data)
			var se *SigningError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "BEGIN") {
				t.Fatal("key material in the error")
			}
		})
	}
}
