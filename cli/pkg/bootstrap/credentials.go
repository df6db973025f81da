package bootstrap

import (
	"context"
	"time"

	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/pkg/git"
)

// Credentials is what goes into the cluster's Git credentials Secret.
type Credentials struct {
	// SSH makes a key pair Secret (identity, identity.pub, known_hosts) for HostPort,
	// whose host key is KnownHosts, or scanned when that is empty.
	SSH        bool
	HostPort   string
	KnownHosts []byte
	KeyOpts    sshkey.Options
	// PrivateKey, when set, is used instead of a new key (--private-key-file);
	// Passphrase decrypts it and is stored as the Secret's password.
	PrivateKey []byte
	Passphrase string
	// Username/Password or BearerToken authenticate over HTTP(S).
	Username, Password, BearerToken string
	// CACert is stored as ca.crt (--ca-file).
	CACert []byte
}

// Data builds the Secret's data, returning the public key when it holds an SSH key pair.
func (c Credentials) Data(ctx context.Context, timeout time.Duration) (map[string][]byte, []byte, error) {
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
	var kp sshkey.KeyPair
	var err error
	if len(c.PrivateKey) > 0 {
		if kp, err = sshkey.FromPEM(c.PrivateKey, c.Passphrase, "--private-key-file"); err != nil {
			return nil, nil, err
		}
		if c.Passphrase != "" {
			out[git.KeyPassword] = []byte(c.Passphrase)
		}
	} else if kp, err = c.KeyOpts.Generate(); err != nil {
		return nil, nil, err
	}
	knownHosts := c.KnownHosts
	if len(knownHosts) == 0 {
		if knownHosts, err = sshkey.ScanHostKeys(ctx, c.HostPort, timeout); err != nil {
			return nil, nil, err
		}
	}
	out[git.KeyIdentity], out[git.KeyIdentity+".pub"], out[git.KeyKnownHosts] = kp.Private, kp.Public, knownHosts
	return out, kp.Public, nil
}
