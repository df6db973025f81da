package app

import (
	"context"
	"time"

	"gotk.dev/pkg/git"
)

// bootstrapCredentials is what goes into the cluster's Git credentials Secret.
type bootstrapCredentials struct {
	// SSH makes a key pair Secret (identity, identity.pub, known_hosts) for HostPort,
	// whose host key is KnownHosts, or scanned when that is empty.
	SSH        bool
	HostPort   string
	KnownHosts []byte
	KeyOpts    sshKeyFlags
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
	var kp keyPair
	var err error
	if len(c.PrivateKey) > 0 {
		if kp, err = keyPairFromPEM(c.PrivateKey, c.Passphrase, "--private-key-file"); err != nil {
			return nil, nil, err
		}
		if c.Passphrase != "" {
			out[git.KeyPassword] = []byte(c.Passphrase)
		}
	} else if kp, err = c.KeyOpts.generate(); err != nil {
		return nil, nil, err
	}
	knownHosts := c.KnownHosts
	if len(knownHosts) == 0 {
		if knownHosts, err = scanHostKeys(ctx, c.HostPort, timeout); err != nil {
			return nil, nil, err
		}
	}
	out[git.KeyIdentity], out[git.KeyIdentity+".pub"], out[git.KeyKnownHosts] = kp.private, kp.public, knownHosts
	return out, kp.public, nil
}
