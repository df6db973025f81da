package app

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"

	"github.com/spf13/cobra"
)

// The keys of a GitHub App secret, as source-controller and upstream's CLI name them.
const (
	githubAppIDKey                = "githubAppID"
	githubAppInstallationIDKey    = "githubAppInstallationID"
	githubAppInstallationOwnerKey = "githubAppInstallationOwner"
	githubAppPrivateKeyKey        = "githubAppPrivateKey"
	githubAppBaseURLKey           = "githubAppBaseURL"
)

func newCreateSecretGitHubAppCommand(c *Command, cf *createFlags) *cobra.Command {
	var appID, installationID, installationOwner, keyFile, baseURL string
	cmd := &cobra.Command{
		Use:   "githubapp [name]",
		Short: "Create or update a github app secret",
		Long:  "The create secret githubapp command generates a Kubernetes secret that can be used for GitRepository authentication with github app",
		Example: `  # Create a githubapp authentication secret on disk and encrypt it with Mozilla SOPS
  flux create secret githubapp podinfo-auth \
    --app-id="1" \
    --app-installation-id="2" \
    --app-private-key=./private-key-file.pem \
    --export > githubapp-auth.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place githubapp-auth.yaml`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if appID == "" {
				return errors.New("--app-id is required")
			}
			if _, err := strconv.ParseUint(appID, 10, 64); err != nil {
				return fmt.Errorf("invalid --app-id %q: the GitHub App ID is a number", appID)
			}
			if installationID == "" && installationOwner == "" {
				return errors.New("--app-installation-id or --app-installation-owner is required")
			}
			if installationID != "" {
				if _, err := strconv.ParseUint(installationID, 10, 64); err != nil {
					return fmt.Errorf("invalid --app-installation-id %q: the installation ID is a number", installationID)
				}
			}
			if keyFile == "" {
				return errors.New("--app-private-key is required")
			}
			key, err := os.ReadFile(keyFile)
			if err != nil {
				return fmt.Errorf("unable to read private key file: %w", err)
			}
			if err := checkGitHubAppKey(key); err != nil {
				return fmt.Errorf("invalid --app-private-key %s: %w", keyFile, err)
			}
			data := map[string]string{githubAppIDKey: appID, githubAppPrivateKeyKey: string(key)}
			if installationID != "" {
				data[githubAppInstallationIDKey] = installationID
			}
			if installationOwner != "" {
				data[githubAppInstallationOwnerKey] = installationOwner
			}
			if baseURL != "" {
				u, err := url.Parse(baseURL)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					return fmt.Errorf("invalid --app-base-url %q: want an http(s) URL such as https://github.example.com/api/v3", baseURL)
				}
				data[githubAppBaseURLKey] = baseURL
			}
			return c.createSecret(cmd, cf, args[0], "", data, "githubapp")
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&appID, "app-id", "", "github app ID")
	fs.StringVar(&installationOwner, "app-installation-owner", "", "github app installation owner (user or organization)")
	fs.StringVar(&installationID, "app-installation-id", "", "github app installation ID")
	fs.StringVar(&keyFile, "app-private-key", "", "github app private key file path")
	fs.StringVar(&baseURL, "app-base-url", "", "github app base URL")
	return cmd
}

// checkGitHubAppKey refuses what GitHub would: the App signs its tokens with the RSA key
// GitHub issued (PKCS#1 "RSA PRIVATE KEY", or PKCS#8 holding an RSA key).
func checkGitHubAppKey(data []byte) error {
	block, _ := pem.Decode(data)
	if block == nil {
		return errors.New("no PEM-encoded private key found")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("not an RSA private key (%s block)", block.Type)
	}
	if _, ok := k.(*rsa.PrivateKey); !ok {
		return fmt.Errorf("a %T, not an RSA private key", k)
	}
	return nil
}
