package app

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// tlsFileFlags are the TLS file flags of create secret tls and create secret helm, with
// upstream's names, plus the deprecated names upstream still accepts (hidden).
type tlsFileFlags struct {
	crtFile, keyFile, caFile string
	// deprecated names
	oldCrt, oldKey, oldCA string
}

func (f *tlsFileFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.crtFile, "tls-crt-file", "", "TLS authentication cert file path")
	fs.StringVar(&f.keyFile, "tls-key-file", "", "TLS authentication key file path")
	fs.StringVar(&f.caFile, "ca-crt-file", "", "TLS authentication CA file path")
	fs.StringVar(&f.oldCrt, "cert-file", "", "TLS authentication cert file path")
	fs.StringVar(&f.oldKey, "key-file", "", "TLS authentication key file path")
	fs.StringVar(&f.oldCA, "ca-file", "", "TLS authentication CA file path")
	for old, repl := range map[string]string{"cert-file": "tls-crt-file", "key-file": "tls-key-file", "ca-file": "ca-crt-file"} {
		_ = fs.MarkDeprecated(old, "use --"+repl+" instead")
	}
}

// data reads the files into the keys Flux reads TLS material from (tls.crt, tls.key,
// ca.crt). The certificate and key go together.
func (f *tlsFileFlags) data() (map[string]string, error) {
	pick := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	files := map[string]string{
		"tls.crt": pick(f.crtFile, f.oldCrt),
		"tls.key": pick(f.keyFile, f.oldKey),
		"ca.crt":  pick(f.caFile, f.oldCA),
	}
	if (files["tls.crt"] == "") != (files["tls.key"] == "") {
		return nil, errors.New("--tls-crt-file and --tls-key-file go together: give both for a client certificate")
	}
	out := map[string]string{}
	for key, path := range files {
		if path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read %s file: %w", key, err)
		}
		out[key] = string(b)
	}
	// Check the PEM here: a Secret the controller cannot read fails later, far from the
	// command that made it. Errors name the flag and never print the key.
	if out["tls.crt"] != "" {
		if _, err := tls.X509KeyPair([]byte(out["tls.crt"]), []byte(out["tls.key"])); err != nil {
			return nil, fmt.Errorf("--tls-crt-file and --tls-key-file are not a PEM certificate and its private key: %v", err)
		}
	}
	if ca := out["ca.crt"]; ca != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(ca)) {
		return nil, errors.New("--ca-crt-file holds no PEM certificate")
	}
	return out, nil
}

func newCreateSecretTLSCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &tlsFileFlags{}
	cmd := &cobra.Command{
		Use:   "tls [name]",
		Short: "Create or update a Kubernetes secret with TLS certificates",
		Long: `The create secret tls command generates a Kubernetes secret with certificates for use with TLS
(tls.crt, tls.key, ca.crt), for spec.certSecretRef of HelmRepositories, OCIRepositories and Buckets.`,
		Example: `  # Create a TLS secret on disk and encrypt it with SOPS (files are PEM-encoded)
  flux create secret tls certs \
    --namespace=my-namespace \
    --tls-crt-file=./client.crt \
    --tls-key-file=./client.key \
    --ca-crt-file=./ca.crt \
    --export > certs.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place certs.yaml`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := f.data()
			if err != nil {
				return err
			}
			if len(data) == 0 {
				return errors.New("at least one of --tls-crt-file with --tls-key-file, or --ca-crt-file, is required")
			}
			return c.createSecret(cmd, cf, args[0], "", data, "tls")
		},
	}
	f.bind(cmd.Flags())
	return cmd
}

// createSecret exports or applies a Secret of create secret <what>.
func (c *Command) createSecret(cmd *cobra.Command, cf *createFlags, name, typ string, data map[string]string, what string) error {
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return err
	}
	secret := newSecret(name, c.Global.Namespace, labels, typ, data)
	if done, err := c.exportCreated(cf, secret); done {
		return err
	}
	ctx, cancel := c.withTimeout(cmd.Context())
	defer cancel()
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	if _, err := applySecret(ctx, kube, secret); err != nil {
		return err
	}
	c.Log().Actionf("%s secret '%s' created in '%s' namespace", what, name, c.Global.Namespace)
	return nil
}
