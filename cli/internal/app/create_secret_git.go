package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/redact"
)

// gitCredentialFlags are the credential flags of create secret git and create source git.
type gitCredentialFlags struct {
	username, password, bearerToken string
	privateKeyFile, caFile          string
	key                             sshkey.Options
}

// bind registers the flags; caFlag is the CA file flag's name (--ca-crt-file for the
// secret, --ca-file for the source, as upstream names them).
func (f *gitCredentialFlags) bind(fs *pflag.FlagSet, caFlag string, bearer bool) {
	fs.StringVarP(&f.username, "username", "u", "", "basic authentication username")
	fs.StringVarP(&f.password, "password", "p", "", "basic authentication password (or the passphrase of --private-key-file)")
	if bearer {
		fs.StringVar(&f.bearerToken, "bearer-token", "", "bearer token used for HTTP/S authentication")
	}
	fs.StringVar(&f.key.Algorithm, "ssh-key-algorithm", "ecdsa", "SSH public key algorithm (rsa, ecdsa, ed25519)")
	fs.IntVar(&f.key.RSABits, "ssh-rsa-bits", 2048, "SSH RSA public key bit size (multiplies of 8, min 1024)")
	fs.StringVar(&f.key.ECDSACurve, "ssh-ecdsa-curve", "p384", "SSH ECDSA public key curve (p256, p384, p521)")
	fs.StringVar(&f.privateKeyFile, "private-key-file", "", "path to a private key file used for authenticating to the Git SSH server")
	fs.StringVar(&f.caFile, caFlag, "", "path to TLS CA file used for validating self-signed certificates")
}

// parseGitURL accepts the URL schemes the source-controller speaks.
func parseGitURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("--url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, with any password in it: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid --url %q: %v", redact.URL(raw), err)
	}
	switch u.Scheme {
	case "ssh", "http", "https":
	default:
		return nil, fmt.Errorf("git URL scheme '%s' not supported, can be: ssh, http and https", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid --url %q: no host", redact.URL(raw))
	}
	return u, nil
}

// gitSecretData is the content of a Flux Git credentials Secret for u: over SSH a key pair
// (from --private-key-file or generated) and the server's host keys; over HTTP/S basic
// auth or a bearer token, and a CA certificate. required makes HTTP/S credentials
// mandatory (create secret git); otherwise no credentials mean no data.
func (c *Command) gitSecretData(ctx context.Context, u *url.URL, f gitCredentialFlags, required bool) (map[string]string, error) {
	data := map[string]string{}
	if u.Scheme == "ssh" {
		var kp sshkey.KeyPair
		var err error
		if f.privateKeyFile != "" {
			kp, err = sshkey.Load(f.privateKeyFile, f.password)
		} else {
			kp, err = f.key.Generate()
		}
		if err != nil {
			return nil, err
		}
		knownHosts, err := sshkey.ScanHostKeys(ctx, u.Host, min(30*time.Second, c.Global.Timeout))
		if err != nil {
			return nil, err
		}
		data[git.KeyIdentity] = string(kp.Private)
		data[git.KeyIdentity+".pub"] = string(kp.Public)
		data[git.KeyKnownHosts] = string(knownHosts)
		if f.privateKeyFile != "" && f.password != "" {
			data[git.KeyPassword] = f.password
		}
		return data, nil
	}
	switch {
	case f.bearerToken != "" && (f.username != "" || f.password != ""):
		return nil, errors.New("user credentials and bearer token cannot be used together")
	case (f.username == "") != (f.password == ""):
		return nil, errors.New("--username and --password go together: give both for basic authentication")
	case required && f.username == "" && f.bearerToken == "":
		return nil, errors.New("for Git over HTTP/S the username and password, or a bearer token, are required")
	}
	if f.username != "" {
		data[git.KeyUsername], data[git.KeyPassword] = f.username, f.password
	}
	if f.bearerToken != "" {
		data[git.KeyBearerToken] = f.bearerToken
	}
	if len(data) > 0 && u.Scheme == "http" {
		c.Log().Warningf("insecure configuration: credentials configured for an HTTP URL")
	}
	if f.caFile != "" {
		ca, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		data[git.KeyCACert] = string(ca)
	}
	return data, nil
}

func newCreateSecretGitCommand(c *Command, cf *createFlags) *cobra.Command {
	f := gitCredentialFlags{}
	rawURL := ""
	cmd := &cobra.Command{
		Use:   "git [name]",
		Short: "Create or update a Kubernetes secret for Git authentication",
		Long: `The create secret git command generates a Kubernetes secret with Git credentials.
For Git over SSH, the host and the SSH keys are automatically configured: a key pair is generated
(or read from --private-key-file) and the host keys are scanned.
For Git over HTTP/S, the provided basic authentication credentials or bearer token are stored.`,
		Example: `  # Create a Git SSH authentication secret using an ECDSA P-384 key pair
  flux create secret git podinfo-auth --url=ssh://git@github.com/stefanprodan/podinfo

  # Create a Git SSH secret from an existing private key file
  flux create secret git podinfo-auth --url=ssh://git@github.com/stefanprodan/podinfo \
    --private-key-file=./private.key

  # Create a secret for a Git repository using basic authentication
  flux create secret git podinfo-auth --url=https://github.com/stefanprodan/podinfo \
    --username=username --password=password

  # Print the secret instead of applying it
  flux create secret git podinfo-auth --url=https://github.com/stefanprodan/podinfo \
    --bearer-token=token --export > podinfo-auth.yaml`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, ns := args[0], c.Global.Namespace
			labels, err := parseLabels(cf.labels)
			if err != nil {
				return err
			}
			u, err := parseGitURL(rawURL)
			if err != nil {
				return err
			}
			ctx, cancel := c.withTimeout(cmd.Context())
			defer cancel()
			data, err := c.gitSecretData(ctx, u, f, true)
			if err != nil {
				return err
			}
			secret := newSecret(name, ns, labels, "", data)
			if done, err := c.exportCreated(cf, secret); done {
				return err
			}
			kube, _, err := c.connect(ctx)
			if err != nil {
				return err
			}
			if pub, ok := data[git.KeyIdentity+".pub"]; ok {
				c.Log().Generatef("deploy key: %s", strings.TrimSpace(pub))
			}
			if _, err := applySecret(ctx, kube, secret); err != nil {
				return err
			}
			c.Log().Actionf("git secret '%s' created in '%s' namespace", name, ns)
			return nil
		},
	}
	cmd.Flags().StringVar(&rawURL, "url", "", "git address, e.g. ssh://git@host/org/repository")
	f.bind(cmd.Flags(), "ca-crt-file", true)
	return cmd
}
