package app

import (
	"errors"

	"github.com/spf13/cobra"
)

// helmAuthFlags are the basic-auth and TLS flags of create secret helm and create source helm.
type helmAuthFlags struct {
	username, password string
	tls                tlsFileFlags
}

// data is the Secret content: username/password and the TLS files.
func (f *helmAuthFlags) data() (map[string]string, error) {
	if (f.username == "") != (f.password == "") {
		return nil, errors.New("--username and --password go together: give both for basic authentication")
	}
	data, err := f.tls.data()
	if err != nil {
		return nil, err
	}
	if f.username != "" {
		data["username"], data["password"] = f.username, f.password
	}
	return data, nil
}

func newCreateSecretHelmCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &helmAuthFlags{}
	cmd := &cobra.Command{
		Use:   "helm [name]",
		Short: "Create or update a Kubernetes secret for Helm repository authentication",
		Long: `The create secret helm command generates a Kubernetes secret with basic authentication credentials
(username, password) and optionally TLS material (tls.crt, tls.key, ca.crt) for a HelmRepository.`,
		Example: `  # Create a Helm authentication secret on disk and encrypt it with SOPS
  flux create secret helm repo-auth \
    --namespace=my-namespace \
    --username=my-username \
    --password=my-password \
    --export > repo-auth.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place repo-auth.yaml`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := f.data()
			if err != nil {
				return err
			}
			if len(data) == 0 {
				return errors.New("--username and --password (or TLS files) are required")
			}
			return c.createSecret(cmd, cf, args[0], "", data, "helm")
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.username, "username", "u", "", "basic authentication username")
	fs.StringVarP(&f.password, "password", "p", "", "basic authentication password")
	f.tls.bind(fs)
	return cmd
}
