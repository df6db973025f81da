package app

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/spf13/cobra"
)

// notationTrustPolicyKey is the Secret entry source-controller reads the trust policy from.
const notationTrustPolicyKey = "trustpolicy.json"

// notationFlags are create secret notation's flags, with upstream's names.
type notationFlags struct {
	caCertFiles     []string
	trustPolicyFile string
}

func newCreateSecretNotationCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &notationFlags{}
	cmd := &cobra.Command{
		Use:   "notation [name]",
		Short: "Create or update a Kubernetes secret for verifications of artifacts signed by Notation",
		Long: `The create secret notation command generates a Kubernetes secret with root CA certificates and
a trust policy, for spec.verify (provider: notation) of OCIRepositories and HelmCharts.`,
		Example: `  # Create a Notation configuration secret on disk and encrypt it with SOPS
  flux create secret notation my-notation-cert \
    --namespace=my-namespace \
    --trust-policy-file=./my-trust-policy.json \
    --ca-cert-file=./my-cert.crt \
    --export > my-notation-cert.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place my-notation-cert.yaml`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := f.data()
			if err != nil {
				return err
			}
			return c.createSecret(cmd, cf, args[0], "", data, "notation")
		},
	}
	cmd.Flags().StringSliceVar(&f.caCertFiles, "ca-cert-file", nil, "root ca cert file path")
	cmd.Flags().StringVar(&f.trustPolicyFile, "trust-policy-file", "", "notation trust policy file path")
	return cmd
}

// data reads and checks the files the way source-controller will read the Secret: the CA
// certificates under their file names (which must end in .pem or .crt) and a trust policy
// notation accepts.
func (f *notationFlags) data() (map[string]string, error) {
	if f.trustPolicyFile == "" {
		return nil, errors.New("--trust-policy-file is required")
	}
	if len(f.caCertFiles) == 0 {
		return nil, errors.New("--ca-cert-file is required")
	}
	policy, err := os.ReadFile(f.trustPolicyFile)
	if err != nil {
		return nil, fmt.Errorf("read --trust-policy-file: %w", err)
	}
	var doc trustpolicy.Document
	if err := json.Unmarshal(policy, &doc); err != nil {
		return nil, fmt.Errorf("--trust-policy-file %s is not JSON: %v", f.trustPolicyFile, err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("--trust-policy-file %s: %w", f.trustPolicyFile, err)
	}
	data := map[string]string{notationTrustPolicyKey: string(policy)}
	for _, path := range f.caCertFiles {
		base := filepath.Base(path)
		if !strings.HasSuffix(base, ".pem") && !strings.HasSuffix(base, ".crt") {
			return nil, fmt.Errorf("--ca-cert-file %s: the file name must end in .pem or .crt", path)
		}
		if _, dup := data[base]; dup {
			return nil, fmt.Errorf("--ca-cert-file %s: another file is named %s", path, base)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read --ca-cert-file: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--ca-cert-file %s holds no PEM certificate", path)
		}
		data[base] = string(b)
	}
	return data, nil
}
