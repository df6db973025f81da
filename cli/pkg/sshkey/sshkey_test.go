package sshkey

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"gotk.dev/internal/testing/gitserver"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		opts     Options
		wantType string
		wantErr  string
	}{
		{opts: Options{Algorithm: "ed25519"}, wantType: ssh.KeyAlgoED25519},
		{opts: Options{Algorithm: "ecdsa", ECDSACurve: "p256"}, wantType: ssh.KeyAlgoECDSA256},
		{opts: Options{Algorithm: "ecdsa", ECDSACurve: "p384"}, wantType: ssh.KeyAlgoECDSA384},
		{opts: Options{Algorithm: "ecdsa", ECDSACurve: "p521"}, wantType: ssh.KeyAlgoECDSA521},
		{opts: Options{Algorithm: "rsa", RSABits: 2048}, wantType: ssh.KeyAlgoRSA},
		{opts: Options{Algorithm: "dsa"}, wantErr: "invalid --ssh-key-algorithm"},
		{opts: Options{Algorithm: "ecdsa", ECDSACurve: "p224"}, wantErr: "invalid --ssh-ecdsa-curve"},
		{opts: Options{Algorithm: "rsa", RSABits: 1000}, wantErr: "invalid --ssh-rsa-bits"},
	}
	for _, tt := range tests {
		t.Run(tt.opts.Algorithm+tt.opts.ECDSACurve, func(t *testing.T) {
			kp, err := tt.opts.Generate()
			private, public := kp.Private, kp.Public
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

func TestFromPEMEncrypted(t *testing.T) {
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
	if _, err := FromPEM(key, "", "--private-key-file"); err == nil || !strings.Contains(err.Error(), "--password") {
		t.Errorf("without passphrase: %v", err)
	}
	if _, err := FromPEM(key, "wrong passphrase", "--private-key-file"); err == nil || strings.Contains(err.Error(), passphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	kp, err := FromPEM(key, passphrase, "--private-key-file")
	pub := kp.Public
	if err != nil || !strings.HasPrefix(string(pub), "ssh-ed25519 ") {
		t.Errorf("= %q, %v", pub, err)
	}
}

// TestScanHostKeys scans a real sshd and compares with the host key it was given.
func TestScanHostKeys(t *testing.T) {
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{})
	ctx := context.Background()
	line, err := ScanHostKeys(ctx, srv.Addr(), 5*time.Second)
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
	if _, err := ScanHostKeys(ctx, addr, 5*time.Second); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("closed port: %v", err)
	}
}
