package app

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"gotk.dev/pkg/auth"
)

// githubAppFlags are create secret githubapp's flags, with upstream's names.
type githubAppFlags struct {
	appID, installationID, installationOwner, privateKeyFile, baseURL string
}

func newCreateSecretGitHubAppCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &githubAppFlags{}
	cmd := &cobra.Command{
		Use:   "githubapp [name]",
		Short: "Create or update a github app secret",
		Long: `The create secret githubapp command generates a Kubernetes secret that can be used for
GitRepository authentication with a GitHub App (spec.provider: github).`,
		Example: `  # Create a githubapp authentication secret on disk and encrypt it with SOPS
  flux create secret githubapp podinfo-auth \
    --app-id="1" \
    --app-installation-id="2" \
    --app-private-key=./private-key-file.pem \
    --export > githubapp-auth.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place githubapp-auth.yaml`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := f.data()
			if err != nil {
				return err
			}
			return c.createSecret(cmd, cf, args[0], "", data, "githubapp")
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.appID, "app-id", "", "github app ID")
	fs.StringVar(&f.installationID, "app-installation-id", "", "github app installation ID")
	fs.StringVar(&f.installationOwner, "app-installation-owner", "", "github app installation owner (user or organization)")
	fs.StringVar(&f.privateKeyFile, "app-private-key", "", "github app private key file path")
	fs.StringVar(&f.baseURL, "app-base-url", "", "github app base URL")
	return cmd
}

// data checks the flags and builds the Secret's entries the way source-controller reads
// them, so a Secret it cannot use is refused here, naming the flag and never the key.
func (f *githubAppFlags) data() (map[string]string, error) {
	if f.appID == "" {
		return nil, errors.New("--app-id is required")
	}
	if f.installationID == "" && f.installationOwner == "" {
		return nil, errors.New("--app-installation-id or --app-installation-owner is required")
	}
	if f.installationID != "" && f.installationOwner != "" {
		return nil, errors.New("--app-installation-id and --app-installation-owner cannot be used together")
	}
	if f.privateKeyFile == "" {
		return nil, errors.New("--app-private-key is required")
	}
	if n, err := strconv.ParseInt(f.appID, 10, 64); err != nil || n <= 0 {
		return nil, fmt.Errorf("invalid --app-id %q: must be a positive number", f.appID)
	}
	if f.installationID != "" {
		if n, err := strconv.ParseInt(f.installationID, 10, 64); err != nil || n <= 0 {
			return nil, fmt.Errorf("invalid --app-installation-id %q: must be a positive number", f.installationID)
		}
	}
	if f.baseURL != "" {
		if u, err := url.Parse(f.baseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("invalid --app-base-url %q: must be an http(s) URL", f.baseURL)
		}
	}
	key, err := os.ReadFile(f.privateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read --app-private-key file: %w", err)
	}
	data := map[string]string{auth.KeyGitHubAppID: f.appID, auth.KeyGitHubAppPrivateKey: string(key)}
	if f.installationID != "" {
		data[auth.KeyGitHubAppInstallationID] = f.installationID
	} else {
		data[auth.KeyGitHubAppInstallationOwner] = f.installationOwner
	}
	if f.baseURL != "" {
		data[auth.KeyGitHubAppBaseURL] = f.baseURL
	}
	raw := map[string][]byte{}
	for k, v := range data {
		raw[k] = []byte(v)
	}
	if _, err := auth.GitHubAppFromSecret(raw); err != nil {
		if errors.Is(err, auth.ErrGitHubAppKey) {
			return nil, fmt.Errorf("--app-private-key %s is not a PEM-encoded RSA private key", f.privateKeyFile)
		}
		return nil, err
	}
	return data, nil
}
