// Package sshkey makes and reads the SSH identities flux stores for Git over SSH: key pairs
// generated as --ssh-key-algorithm says, private keys from files (with their passphrase),
// and the host keys of a server, scanned into a known_hosts file.
package sshkey

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options choose the key pair flux generates for an SSH Git URL (--ssh-key-algorithm,
// --ssh-rsa-bits, --ssh-ecdsa-curve).
type Options struct {
	Algorithm  string // rsa, ecdsa, ed25519
	RSABits    int
	ECDSACurve string // p256, p384, p521
}

// DefaultOptions are upstream's defaults: ECDSA on P-384.
func DefaultOptions() Options { return Options{Algorithm: "ecdsa", RSABits: 4096, ECDSACurve: "p384"} }

// KeyPair is an SSH identity: the private key (PEM) and its public key in authorized_keys
// format, the deploy key a user adds to the repository.
type KeyPair struct {
	Private, Public []byte
}

// ecdsaCurves are the --ssh-ecdsa-curve values.
func ecdsaCurves() map[string]elliptic.Curve {
	return map[string]elliptic.Curve{"p256": elliptic.P256(), "p384": elliptic.P384(), "p521": elliptic.P521()}
}

// validate checks the flags before anything is generated, cloned or applied.
func (f Options) Validate() error {
	switch f.Algorithm {
	case "rsa":
		if f.RSABits < 1024 || f.RSABits%8 != 0 || f.RSABits > 16384 {
			return fmt.Errorf("invalid --ssh-rsa-bits %d: want a multiple of 8 between 1024 and 16384", f.RSABits)
		}
	case "ecdsa":
		if _, ok := ecdsaCurves()[f.ECDSACurve]; !ok {
			return fmt.Errorf("invalid --ssh-ecdsa-curve %q: want p256, p384 or p521", f.ECDSACurve)
		}
	case "ed25519":
	default:
		return fmt.Errorf("invalid --ssh-key-algorithm %q: want rsa, ecdsa or ed25519", f.Algorithm)
	}
	return nil
}

// generate makes a new key pair as the flags say.
func (f Options) Generate() (KeyPair, error) {
	if err := f.Validate(); err != nil {
		return KeyPair{}, err
	}
	var key crypto.Signer
	var err error
	switch f.Algorithm {
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, f.RSABits)
	case "ecdsa":
		key, err = ecdsa.GenerateKey(ecdsaCurves()[f.ECDSACurve], rand.Reader)
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate %s key: %w", f.Algorithm, err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return KeyPair{}, err
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{Private: pem.EncodeToMemory(block), Public: ssh.MarshalAuthorizedKey(pub)}, nil
}

// Load reads a private key file (decrypted with passphrase when it is encrypted) and
// derives its public key. Errors name the file, never its content or the passphrase.
func Load(path, passphrase string) (KeyPair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return KeyPair{}, fmt.Errorf("read private key: %w", err)
	}
	return FromPEM(data, passphrase, "private key "+path)
}

// FromPEM derives the public key of a private key (decrypted with passphrase when it
// is encrypted). Errors name what (the file or flag), never the key or the passphrase.
func FromPEM(data []byte, passphrase, what string) (KeyPair, error) {
	var signer ssh.Signer
	var err error
	if passphrase != "" {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(passphrase))
	} else {
		signer, err = ssh.ParsePrivateKey(data)
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return KeyPair{}, fmt.Errorf("%s is encrypted: give its passphrase with --password", what)
	case errors.Is(err, x509.IncorrectPasswordError):
		return KeyPair{}, fmt.Errorf("%s: wrong passphrase", what)
	case err != nil:
		return KeyPair{}, fmt.Errorf("%s is not a valid SSH private key (%s)", what, safeKeyError(err))
	}
	return KeyPair{Private: data, Public: ssh.MarshalAuthorizedKey(signer.PublicKey())}, nil
}

// safeKeyError keeps only the parser's first words: the errors x/crypto returns describe
// the format, not the key, but a message is never allowed to echo key material.
func safeKeyError(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return msg
}

// hostKeyAlgorithmGroups are the host key families flux asks a server for, one handshake
// each, like ssh-keyscan: a known_hosts with every key the server has works whichever one
// the controller's client negotiates later.
func hostKeyAlgorithmGroups() [][]string {
	return [][]string{
		{ssh.KeyAlgoED25519},
		{ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521},
		{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA},
	}
}

// errHostKeyCollected aborts a scan handshake once the host key is known.
var errHostKeyCollected = errors.New("host key collected")

// ScanHostKeys connects to host (host[:port], port 22 by default) and returns a known_hosts
// file with the server's host keys. No credentials are offered: the handshake ends as soon
// as the server has shown its key.
func ScanHostKeys(ctx context.Context, host string, timeout time.Duration) ([]byte, error) {
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = net.JoinHostPort(host, "22")
	}
	var (
		mu    sync.Mutex
		keys  []ssh.PublicKey
		errs  []error
		wg    sync.WaitGroup
		dialr = net.Dialer{Timeout: timeout}
	)
	for _, algos := range hostKeyAlgorithmGroups() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := dialr.DialContext(ctx, "tcp", addr)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(timeout))
			cfg := &ssh.ClientConfig{
				User:              "git",
				HostKeyAlgorithms: algos,
				HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
					mu.Lock()
					keys = append(keys, key)
					mu.Unlock()
					return errHostKeyCollected
				},
			}
			_, _, _, err = ssh.NewClientConn(conn, addr, cfg)
			if err != nil && !errors.Is(err, errHostKeyCollected) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(keys) == 0 {
		return nil, fmt.Errorf("cannot get the SSH host key of %s: %w", addr, errors.Join(errs...))
	}
	// Same order whatever handshake finished first.
	slices.SortFunc(keys, func(a, b ssh.PublicKey) int { return strings.Compare(a.Type(), b.Type()) })
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(knownhosts.Line([]string{host}, k) + "\n")
	}
	return []byte(b.String()), nil
}
