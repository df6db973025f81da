package app

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// dockerConfigEntry is one registry's credentials in a .dockerconfigjson.
type dockerConfigEntry struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
}

// dockerConfigJSON is the .dockerconfigjson of a kubernetes.io/dockerconfigjson Secret,
// which OCIRepository.spec.secretRef and image pull secrets read.
func dockerConfigJSON(host, username, password string) (string, error) {
	cfg := map[string]map[string]dockerConfigEntry{"auths": {host: {
		Username: username,
		Password: password,
		Auth:     base64.StdEncoding.EncodeToString([]byte(username + ":" + password)),
	}}}
	b, err := json.Marshal(cfg)
	return string(b), err
}

// registryHost validates --url: a registry host[:port], optionally with a path, without
// scheme (the form docker config keys take).
func registryHost(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("--url is required (the registry host, e.g. ghcr.io)")
	}
	if strings.Contains(raw, "://") {
		return "", fmt.Errorf("invalid --url %q: give the registry host without scheme, e.g. ghcr.io", raw)
	}
	if strings.ContainsAny(raw, " \t\n") {
		return "", fmt.Errorf("invalid --url %q: white space in a registry host", raw)
	}
	return raw, nil
}

func newCreateSecretOCICommand(c *Command, cf *createFlags) *cobra.Command {
	var rawURL, username, password string
	cmd := &cobra.Command{
		Use:   "oci [name]",
		Short: "Create or update a Kubernetes secret for OCI registry authentication",
		Long: `The create secret oci command generates a Kubernetes secret of type kubernetes.io/dockerconfigjson
with the credentials of a container registry, for OCIRepository.spec.secretRef.`,
		Example: `  # Create a secret for a registry
  flux create secret oci ghcr-auth --url=ghcr.io --username=username --password=password

  # Print the secret instead of applying it
  flux create secret oci ghcr-auth --url=ghcr.io --username=username --password=password --export > repo-auth.yaml`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, ns := args[0], c.Global.Namespace
			labels, err := parseLabels(cf.labels)
			if err != nil {
				return err
			}
			host, err := registryHost(rawURL)
			if err != nil {
				return err
			}
			if username == "" || password == "" {
				return errors.New("--username and --password are required")
			}
			cfg, err := dockerConfigJSON(host, username, password)
			if err != nil {
				return err
			}
			secret := newSecret(name, ns, labels, "kubernetes.io/dockerconfigjson", map[string]string{".dockerconfigjson": cfg})
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
			c.Log().Actionf("oci secret '%s' created in '%s' namespace", name, ns)
			return nil
		},
	}
	cmd.Flags().StringVar(&rawURL, "url", "", "oci repository address e.g. ghcr.io/stefanprodan/charts")
	cmd.Flags().StringVarP(&username, "username", "u", "", "basic authentication username")
	cmd.Flags().StringVarP(&password, "password", "p", "", "basic authentication password")
	return cmd
}
