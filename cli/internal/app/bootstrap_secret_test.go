package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"gotk.dev/internal/testing/gitserver"
)

func TestBootstrapGenerateKey(t *testing.T) {
	tests := []struct {
		opts     sshKeyFlags
		wantType string
		wantErr  string
	}{
		{opts: sshKeyFlags{algorithm: "ed25519"}, wantType: ssh.KeyAlgoED25519},
		{opts: sshKeyFlags{algorithm: "ecdsa", ecdsaCurve: "p256"}, wantType: ssh.KeyAlgoECDSA256},
		{opts: sshKeyFlags{algorithm: "ecdsa", ecdsaCurve: "p384"}, wantType: ssh.KeyAlgoECDSA384},
		{opts: sshKeyFlags{algorithm: "ecdsa", ecdsaCurve: "p521"}, wantType: ssh.KeyAlgoECDSA521},
		{opts: sshKeyFlags{algorithm: "rsa", rsaBits: 2048}, wantType: ssh.KeyAlgoRSA},
		{opts: sshKeyFlags{algorithm: "dsa"}, wantErr: "invalid --ssh-key-algorithm"},
		{opts: sshKeyFlags{algorithm: "ecdsa", ecdsaCurve: "p224"}, wantErr: "invalid --ssh-ecdsa-curve"},
		{opts: sshKeyFlags{algorithm: "rsa", rsaBits: 1000}, wantErr: "invalid --ssh-rsa-bits"},
	}
	for _, tt := range tests {
		t.Run(tt.opts.algorithm+tt.opts.ecdsaCurve, func(t *testing.T) {
			kp, err := tt.opts.generate()
			private, public := kp.private, kp.public
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			signer, err := ssh.ParsePrivateKey(private)
			if err != nil {
				t.Fatal(err)
			}
			pub, _, _, _, err := ssh.ParseAuthorizedKey(public)
			if err != nil {
				t.Fatal(err)
			}
			if pub.Type() != tt.wantType || !bytes.Equal(pub.Marshal(), signer.PublicKey().Marshal()) {
				t.Errorf("public key %s does not match the private key (%s)", pub.Type(), signer.PublicKey().Type())
			}
		})
	}
}

func TestBootstrapPublicKeyOfEncryptedKey(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const passphrase = "correct horse battery"
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	key := pem.EncodeToMemory(block)
	if _, err := keyPairFromPEM(key, "", "--private-key-file"); err == nil || !strings.Contains(err.Error(), "--password") {
		t.Errorf("without passphrase: %v", err)
	}
	if _, err := keyPairFromPEM(key, "wrong passphrase", "--private-key-file"); err == nil || strings.Contains(err.Error(), passphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	kp, err := keyPairFromPEM(key, passphrase, "--private-key-file")
	pub := kp.public
	if err != nil || !strings.HasPrefix(string(pub), "ssh-ed25519 ") {
		t.Errorf("= %q, %v", pub, err)
	}
}

// TestBootstrapScanHostKey scans a real sshd and compares with the host key it was given.
func TestBootstrapScanHostKey(t *testing.T) {
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{})
	ctx := context.Background()
	line, err := scanHostKeys(ctx, srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(srv.KnownHosts(), line) {
		t.Errorf("scanned %q, server has %q", line, srv.KnownHosts())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if _, err := scanHostKeys(ctx, addr, 5*time.Second); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("closed port: %v", err)
	}
}

func TestBootstrapCredentialsData(t *testing.T) {
	ctx := context.Background()
	ca := []byte("-----BEGIN CERTIFICATE-----\n")
	tests := []struct {
		name    string
		creds   bootstrapCredentials
		keys    string
		wantPub bool
	}{
		{"basic auth", bootstrapCredentials{Username: "git", Password: "s3cret", CACert: ca}, "ca.crt,password,username", false},
		{"bearer token", bootstrapCredentials{BearerToken: "t0ken"}, "bearerToken", false},
		{"new ssh key", bootstrapCredentials{SSH: true, KnownHosts: []byte("example.com ssh-ed25519 AAAA\n"),
			KeyOpts: sshKeyFlags{algorithm: "ed25519"}}, "identity,identity.pub,known_hosts", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, pub, err := tt.creds.data(ctx, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(slices.Sorted(maps.Keys(data)), ","); got != tt.keys {
				t.Errorf("keys = %s, want %s", got, tt.keys)
			}
			if (pub != nil) != tt.wantPub || (pub != nil && !bytes.Equal(pub, data["identity.pub"])) {
				t.Errorf("public key %q", pub)
			}
		})
	}
}
