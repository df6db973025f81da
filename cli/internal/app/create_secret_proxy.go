package app

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"gotk.dev/pkg/proxy"
)

func newCreateSecretProxyCommand(c *Command, cf *createFlags) *cobra.Command {
	var address, username, password string
	cmd := &cobra.Command{
		Use:   "proxy [name]",
		Short: "Create or update a Kubernetes secret for proxy authentication",
		Long: `The create secret proxy command generates a Kubernetes secret with the
proxy address and the basic authentication credentials.`,
		Example: `  # Create a proxy secret on disk and encrypt it with SOPS
  flux create secret proxy my-proxy \
    --namespace=my-namespace \
    --address=https://my-proxy.com \
    --username=my-username \
    --password=my-password \
    --export > proxy.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place proxy.yaml`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if address == "" {
				return errors.New("--address is required")
			}
			data := map[string]string{proxy.KeyAddress: address}
			if username != "" {
				data[proxy.KeyUsername] = username
			}
			if password != "" {
				data[proxy.KeyPassword] = password
			}
			// The controllers read the Secret with pkg/proxy: refuse what they would refuse.
			raw := map[string][]byte{}
			for k, v := range data {
				raw[k] = []byte(v)
			}
			if _, err := proxy.FromSecret(raw); err != nil {
				return errors.New(strings.Replace(err.Error(), "invalid proxy secret: ", "invalid --address: ", 1))
			}
			return c.createSecret(cmd, cf, args[0], "", data, "proxy")
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&address, "address", "", "proxy address")
	fs.StringVarP(&username, "username", "u", "", "basic authentication username")
	fs.StringVarP(&password, "password", "p", "", "basic authentication password")
	return cmd
}
