package app

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/gitserver"
)

// exportedSecret runs flux create secret git --export and returns its stringData.
func exportedSecret(t *testing.T, stdin string, args ...string) map[string]string {
	t.Helper()
	args = append(append([]string{"create", "secret", "git", "ssh-auth"}, args...), "--export",
		"--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
	r := runFlux(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	var s struct {
		Kind       string            `json:"kind"`
		StringData map[string]string `json:"stringData"`
	}
	if err := yaml.Unmarshal([]byte(r.stdout), &s); err != nil || s.Kind != "Secret" {
		t.Fatalf("not a Secret: %v\n%s", err, r.stdout)
	}
	return s.StringData
}

// checkKnownHosts verifies that known_hosts trusts every host key of the server, under the
// name a client connecting to addr looks up.
func checkKnownHosts(t *testing.T, knownHosts string, addr string, keys []ssh.PublicKey) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte(knownHosts), 0o600); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(file)
	if err != nil {
		t.Fatalf("known_hosts does not parse: %v\n%s", err, knownHosts)
	}
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := cb(addr, tcp, k); err != nil {
			t.Errorf("host key %s not trusted: %v\n%s", k.Type(), err, knownHosts)
		}
	}
	if n := strings.Count(strings.TrimSpace(knownHosts), "\n") + 1; n != len(keys) {
		t.Errorf("known_hosts has %d lines, want one per host key (%d)", n, len(keys))
	}
}

// TestCreateSecretGitSSH generates each kind of key pair against a real sshd offering two
// host key types: the private key parses and matches identity.pub, and known_hosts trusts
// both host keys under "[127.0.0.1]:port".
func TestCreateSecretGitSSH(t *testing.T) {
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{HostKeyTypes: []string{"ed25519", "ecdsa"}})
	url := srv.RepoURL("org/app")
	tests := []struct {
		args    []string
		keyType string
	}{
		{nil, "ecdsa-sha2-nistp384"}, // the default: ECDSA P-384
		{[]string{"--ssh-key-algorithm=ecdsa", "--ssh-ecdsa-curve=p256"}, "ecdsa-sha2-nistp256"},
		{[]string{"--ssh-key-algorithm=ed25519"}, "ssh-ed25519"},
		{[]string{"--ssh-key-algorithm=rsa", "--ssh-rsa-bits=1024"}, "ssh-rsa"},
	}
	for _, tt := range tests {
		t.Run(tt.keyType, func(t *testing.T) {
			t.Parallel()
			data := exportedSecret(t, "", append([]string{"--url=" + url}, tt.args...)...)
			signer, err := ssh.ParsePrivateKey([]byte(data["identity"]))
			if err != nil {
				t.Fatalf("identity: %v", err)
			}
			if got := string(ssh.MarshalAuthorizedKey(signer.PublicKey())); got != data["identity.pub"] {
				t.Errorf("identity.pub %q does not match identity (%q)", data["identity.pub"], got)
			}
			if signer.PublicKey().Type() != tt.keyType {
				t.Errorf("key type %s, want %s", signer.PublicKey().Type(), tt.keyType)
			}
			checkKnownHosts(t, data["known_hosts"], srv.Addr(), srv.HostKeys())
			if _, ok := data["password"]; ok {
				t.Error("a generated key has a password entry")
			}
		})
	}
}

// TestCreateSecretGitPrivateKeyFile stores a given (encrypted) key as it is, with its
// passphrase; a wrong or missing passphrase fails without printing it.
func TestCreateSecretGitPrivateKeyFile(t *testing.T) {
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{})
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const passphrase = "k3y-pa55phrase"
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	keyPEM := pem.EncodeToMemory(block)
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(priv.Public())

	data := exportedSecret(t, "", "--url="+srv.RepoURL("app"), "--private-key-file="+keyFile, "--password="+passphrase)
	if data["identity"] != string(keyPEM) || data["identity.pub"] != string(ssh.MarshalAuthorizedKey(pub)) || data["password"] != passphrase {
		t.Errorf("secret data does not hold the key file, its public key and passphrase: %q", data)
	}
	checkKnownHosts(t, data["known_hosts"], srv.Addr(), srv.HostKeys())

	for _, tt := range []struct{ password, want string }{
		{"wrong-" + passphrase, "wrong passphrase"},
		{"", "is encrypted: give its passphrase with --password"},
	} {
		r := runFlux(t, "", "create", "secret", "git", "x", "--url="+srv.RepoURL("app"), "--private-key-file="+keyFile,
			"--password="+tt.password, "--export")
		if r.code != 1 {
			t.Fatalf("exit %d", r.code)
		}
		wants(t, "stderr", r.stderr, tt.want)
		if strings.Contains(r.stderr+r.stdout, passphrase) || bytes.Contains([]byte(r.stderr), keyPEM[40:80]) {
			t.Errorf("secret material printed:\n%s", r.stderr)
		}
	}
}
