package app

import (
	"errors"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/notification-controller/api/v1beta3"
)

// alertProviderFlags are create alert-provider's own flags.
type alertProviderFlags struct {
	providerType, channel, username, address, secretRef string
}

func newCreateAlertProviderCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &alertProviderFlags{}
	cmd := &cobra.Command{
		Use:   "alert-provider [name]",
		Short: "Create or update a Provider resource",
		Long:  "The create alert-provider command generates a Provider resource.",
		Example: `  # Create a Provider for a Slack channel
  flux create alert-provider slack \
  --type slack \
  --channel general \
  --address https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK \
  --secret-ref webhook-url

  # Create a Provider for a Github repository
  flux create alert-provider github-podinfo \
  --type github \
  --address https://github.com/stefanprodan/podinfo \
  --secret-ref github-token`,
		Args: nameArg("Provider"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := f.provider(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			return c.createStatic(cmd, cf, p, v1beta3.ProviderKind, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.providerType, "type", "", "type of provider")
	fs.StringVar(&f.channel, "channel", "", "channel to send messages to in the case of a chat provider")
	fs.StringVar(&f.username, "username", "", "bot username used by the provider")
	fs.StringVar(&f.address, "address", "", "path to either the git repository, chat provider or webhook")
	fs.StringVar(&f.secretRef, "secret-ref", "", "name of secret containing authentication token")
	return cmd
}

// provider builds the Provider the flags describe. The type is checked by the API server
// (the CRD lists them), as upstream leaves it.
func (f *alertProviderFlags) provider(name, ns string, cf *createFlags) (*v1beta3.Provider, error) {
	if f.providerType == "" {
		return nil, errors.New("Provider type is required")
	}
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	p := &v1beta3.Provider{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta3.GroupVersion.String(), Kind: v1beta3.ProviderKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: v1beta3.ProviderSpec{
			Type:     f.providerType,
			Channel:  f.channel,
			Username: f.username,
			Address:  f.address,
		},
	}
	if f.secretRef != "" {
		p.Spec.SecretRef = &meta.LocalObjectReference{Name: f.secretRef}
	}
	return p, nil
}
