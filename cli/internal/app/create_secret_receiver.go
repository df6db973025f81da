package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

// webhookURLAnnotation records, on a Receiver's token Secret, the webhook URL the token
// and the Receiver's name and namespace make: what to configure at the webhook sender.
const webhookURLAnnotation = "notification.toolkit.fluxcd.io/webhook"

// receiverTypes are the Receiver types a token Secret can be made for (generic-oidc
// Receivers have no Secret).
var receiverTypes = []string{
	apiv1.GenericReceiver, apiv1.GenericHMACReceiver, apiv1.GitHubReceiver, apiv1.GitLabReceiver,
	apiv1.BitbucketReceiver, apiv1.HarborReceiver, apiv1.DockerHubReceiver, apiv1.QuayReceiver,
	apiv1.GCRReceiver, apiv1.NexusReceiver, apiv1.ACRReceiver, apiv1.CDEventsReceiver,
}

// secretReceiverFlags are create secret receiver's own flags.
type secretReceiverFlags struct {
	receiverType, token, hostname, emailClaim, audienceClaim string
}

func newCreateSecretReceiverCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &secretReceiverFlags{}
	cmd := &cobra.Command{
		Use:   "receiver [name]",
		Short: "Create or update a Kubernetes secret for a Receiver webhook",
		Long: `The create secret receiver command generates a Kubernetes secret with
the token used for webhook payload validation and an annotation with the
computed webhook URL. Name the secret after the Receiver: the URL is computed
from the token and the Receiver's name and namespace.`,
		Example: `  # Create a receiver secret for a GitHub webhook
  flux create secret receiver github-receiver \
    --namespace=my-namespace \
    --type=github \
    --hostname=flux.example.com \
    --export

  # Create a receiver secret for GCR with email claim
  flux create secret receiver gcr-receiver \
    --namespace=my-namespace \
    --type=gcr \
    --hostname=flux.example.com \
    --email-claim=sa@project.iam.gserviceaccount.com \
    --export`,
		Args: nameArg("secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, ns := args[0], c.Global.Namespace
			secret, url, err := f.secret(name, ns, cf)
			if err != nil {
				return err
			}
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
			c.Log().Actionf("receiver secret '%s' created in '%s' namespace", name, ns)
			c.Log().Successf("webhook URL %s", url)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.receiverType, "type", "", "the Receiver type, one of: "+strings.Join(receiverTypes, ", "))
	fs.StringVar(&f.token, "token", "", "webhook token used for payload validation and URL computation, auto-generated if not specified")
	fs.StringVar(&f.hostname, "hostname", "", "hostname for the webhook URL e.g. flux.example.com")
	fs.StringVar(&f.emailClaim, "email-claim", "", "IAM service account email, required for gcr type")
	fs.StringVar(&f.audienceClaim, "audience-claim", "", "custom OIDC token audience for gcr type, defaults to the webhook URL")
	return cmd
}

// secret builds the token Secret and returns the webhook URL it is for.
func (f *secretReceiverFlags) secret(name, ns string, cf *createFlags) (secret *unstructured.Unstructured, url string, err error) {
	switch {
	case f.receiverType == "":
		return nil, "", errors.New("--type is required")
	case !slices.Contains(receiverTypes, f.receiverType):
		return nil, "", fmt.Errorf("invalid --type %q, must be one of: %s", f.receiverType, strings.Join(receiverTypes, ", "))
	case f.hostname == "":
		return nil, "", errors.New("--hostname is required")
	case strings.Contains(f.hostname, "/"):
		return nil, "", fmt.Errorf("invalid --hostname %q: give the host (and port) only, e.g. flux.example.com", f.hostname)
	case f.receiverType == apiv1.GCRReceiver && f.emailClaim == "":
		return nil, "", errors.New("--email-claim is required for gcr receiver type")
	case f.receiverType != apiv1.GCRReceiver && (f.emailClaim != "" || f.audienceClaim != ""):
		return nil, "", errors.New("--email-claim and --audience-claim are for the gcr receiver type only")
	}
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, "", err
	}
	token := f.token
	if token == "" {
		b := make([]byte, 20)
		if _, err := rand.Read(b); err != nil {
			return nil, "", err
		}
		token = hex.EncodeToString(b)
	}
	rcv := apiv1.Receiver{}
	rcv.Name, rcv.Namespace = name, ns
	url = "https://" + f.hostname + rcv.GetWebhookPath(token)
	data := map[string]string{"token": token}
	if f.receiverType == apiv1.GCRReceiver {
		data["email"] = f.emailClaim
		data["audience"] = f.audienceClaim
		if data["audience"] == "" {
			data["audience"] = url
		}
	}
	s := newSecret(name, ns, labels, "", data)
	s.SetAnnotations(map[string]string{webhookURLAnnotation: url})
	return s, url, nil
}
