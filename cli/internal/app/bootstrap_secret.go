package app

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"gotk.dev/pkg/git"
)

// bootstrapKeyOptions are --ssh-key-algorithm, --ssh-ecdsa-curve and --ssh-rsa-bits.
type bootstrapKeyOptions struct {
	Algorithm string
	Curve     string
	RSABits   int
}

// Validate checks the options before anything is cloned or applied.
func (o bootstrapKeyOptions) Validate() error {
	switch o.Algorithm {
	case "ed25519":
	case "ecdsa":
		if _, err := bootstrapECDSACurve(o.Curve); err != nil {
			return err
		}
	case "rsa":
		if o.RSABits < 1024 || o.RSABits%8 != 0 || o.RSABits > 16384 {
			return fmt.Errorf("invalid --ssh-rsa-bits %d: must be a multiple of 8 between 1024 and 16384", o.RSABits)
		}
	default:
		return fmt.Errorf("invalid --ssh-key-algorithm %q: must be one of rsa, ecdsa, ed25519", o.Algorithm)
	}
	return nil
}

func bootstrapECDSACurve(name string) (elliptic.Curve, error) {
	switch name {
	case "p256":
		return elliptic.P256(), nil
	case "p384":
		return elliptic.P384(), nil
	case "p521":
		return elliptic.P521(), nil
	}
	return nil, fmt.Errorf("invalid --ssh-ecdsa-curve %q: must be one of p256, p384, p521", name)
}

// bootstrapGenerateKey returns a new private key (OpenSSH PEM, unencrypted) and its public key in
// authorized_keys format.
func bootstrapGenerateKey(o bootstrapKeyOptions) (private, public []byte, err error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	var key crypto.Signer
	switch o.Algorithm {
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		curve, _ := bootstrapECDSACurve(o.Curve)
		key, err = ecdsa.GenerateKey(curve, rand.Reader)
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, o.RSABits)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s key: %w", o.Algorithm, err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, nil, err
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(block), ssh.MarshalAuthorizedKey(pub), nil
}

// bootstrapPublicKey derives the authorized_keys line of a private key (--private-key-file),
// decrypting it with passphrase when it is encrypted.
func bootstrapPublicKey(private []byte, passphrase string) ([]byte, error) {
	var signer ssh.Signer
	var err error
	if passphrase != "" {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(private, []byte(passphrase))
	} else {
		signer, err = ssh.ParsePrivateKey(private)
	}
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errors.New("the private key is encrypted: give its passphrase with --password")
	}
	if err != nil {
		// x/crypto's errors describe the format, never the key.
		return nil, fmt.Errorf("invalid private key: %v", err)
	}
	return ssh.MarshalAuthorizedKey(signer.PublicKey()), nil
}

// errBootstrapHostKeyScanned stops the handshake once the host key is known.
var errBootstrapHostKeyScanned = errors.New("host key scanned")

// bootstrapScanHostKey connects to an SSH server (host:port) and returns a known_hosts line for the
// host key it presents, as ssh-keyscan does. The key is trusted on first use: the user
// confirms the repository's access separately, and the cluster then pins this key.
func bootstrapScanHostKey(ctx context.Context, hostport string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, fmt.Errorf("cannot scan the SSH host key of %s: %w", hostport, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var key ssh.PublicKey
	cfg := &ssh.ClientConfig{
		User: "git",
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			key = k
			return errBootstrapHostKeyScanned
		},
		Timeout: timeout,
	}
	_, _, _, err = ssh.NewClientConn(conn, hostport, cfg)
	if key == nil {
		return nil, fmt.Errorf("cannot scan the SSH host key of %s: %w", hostport, err)
	}
	return []byte(knownhosts.Line([]string{knownhosts.Normalize(hostport)}, key) + "\n"), nil
}

// bootstrapCredentials is what goes into the cluster's Git credentials Secret.
type bootstrapCredentials struct {
	// SSH makes a key pair Secret (identity, identity.pub, known_hosts) for HostPort,
	// whose host key is KnownHosts, or scanned when that is empty.
	SSH        bool
	HostPort   string
	KnownHosts []byte
	KeyOpts    bootstrapKeyOptions
	// PrivateKey, when set, is used instead of a new key (--private-key-file);
	// Passphrase decrypts it and is stored as the Secret's password.
	PrivateKey []byte
	Passphrase string
	// Username/Password or BearerToken authenticate over HTTP(S).
	Username, Password, BearerToken string
	// CACert is stored as ca.crt (--ca-file).
	CACert []byte
}

// data builds the Secret's data, returning the public key when it holds an SSH key pair.
func (c bootstrapCredentials) data(ctx context.Context, timeout time.Duration) (map[string][]byte, []byte, error) {
	out := map[string][]byte{}
	if len(c.CACert) > 0 {
		out[git.KeyCACert] = c.CACert
	}
	if !c.SSH {
		if c.BearerToken != "" {
			out[git.KeyBearerToken] = []byte(c.BearerToken)
		} else {
			out[git.KeyUsername], out[git.KeyPassword] = []byte(c.Username), []byte(c.Password)
		}
		return out, nil, nil
	}
	private, public := c.PrivateKey, []byte(nil)
	var err error
	if len(private) > 0 {
		if public, err = bootstrapPublicKey(private, c.Passphrase); err != nil {
			return nil, nil, err
		}
		if c.Passphrase != "" {
			out[git.KeyPassword] = []byte(c.Passphrase)
		}
	} else if private, public, err = bootstrapGenerateKey(c.KeyOpts); err != nil {
		return nil, nil, err
	}
	knownHosts := c.KnownHosts
	if len(knownHosts) == 0 {
		if knownHosts, err = bootstrapScanHostKey(ctx, c.HostPort, timeout); err != nil {
			return nil, nil, err
		}
	}
	out[git.KeyIdentity], out[git.KeyIdentity+".pub"], out[git.KeyKnownHosts] = private, public, knownHosts
	return out, public, nil
}
