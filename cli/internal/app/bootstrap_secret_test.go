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

	"gotk.dev/pkg/testserver/gitserver"
)

func TestBootstrapGenerateKey(t *testing.T) {
	tests := []struct {
		opts     bootstrapKeyOptions
		wantType string
		wantErr  string
	}{
		{opts: bootstrapKeyOptions{Algorithm: "ed25519"}, wantType: ssh.KeyAlgoED25519},
		{opts: bootstrapKeyOptions{Algorithm: "ecdsa", Curve: "p256"}, wantType: ssh.KeyAlgoECDSA256},
		{opts: bootstrapKeyOptions{Algorithm: "ecdsa", Curve: "p384"}, wantType: ssh.KeyAlgoECDSA384},
		{opts: bootstrapKeyOptions{Algorithm: "ecdsa", Curve: "p521"}, wantType: ssh.KeyAlgoECDSA521},
		{opts: bootstrapKeyOptions{Algorithm: "rsa", RSABits: 2048}, wantType: ssh.KeyAlgoRSA},
		{opts: bootstrapKeyOptions{Algorithm: "dsa"}, wantErr: "invalid --ssh-key-algorithm"},
		{opts: bootstrapKeyOptions{Algorithm: "ecdsa", Curve: "p224"}, wantErr: "invalid --ssh-ecdsa-curve"},
		{opts: bootstrapKeyOptions{Algorithm: "rsa", RSABits: 1000}, wantErr: "invalid --ssh-rsa-bits"},
	}
	for _, tt := range tests {
		t.Run(tt.opts.Algorithm+tt.opts.Curve, func(t *testing.T) {
			private, public, err := bootstrapGenerateKey(tt.opts)
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
	if _, err := bootstrapPublicKey(key, ""); err == nil || !strings.Contains(err.Error(), "--password") {
		t.Errorf("without passphrase: %v", err)
	}
	if _, err := bootstrapPublicKey(key, "wrong passphrase"); err == nil || strings.Contains(err.Error(), passphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	pub, err := bootstrapPublicKey(key, passphrase)
	if err != nil || !strings.HasPrefix(string(pub), "ssh-ed25519 ") {
		t.Errorf("= %q, %v", pub, err)
	}
}

// TestBootstrapScanHostKey scans a real sshd and compares with the host key it was given.
func TestBootstrapScanHostKey(t *testing.T) {
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{})
	ctx := context.Background()
	line, err := bootstrapScanHostKey(ctx, srv.Addr(), 5*time.Second)
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
	if _, err := bootstrapScanHostKey(ctx, addr, 5*time.Second); err == nil || !strings.Contains(err.Error(), addr) {
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
			KeyOpts: bootstrapKeyOptions{Algorithm: "ed25519"}}, "identity,identity.pub,known_hosts", true},
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
