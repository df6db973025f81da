package notifier

import (
	"context"
	"fmt"
	"sort"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"

	"gotk.dev/notification-controller/api/v1beta3"
)

// Notifier delivers one event to one provider.
type Notifier interface {
	Post(ctx context.Context, ev eventv1.Event) error
}

// Closer is implemented by notifiers holding a connection (nats, googlepubsub,
// azureeventhub); the caller closes them when the Provider changes or goes away.
type Closer interface {
	Close() error
}

// New builds the notifier of o.Type. Configuration errors (missing address, token or channel,
// an invalid CEL expression) are returned here, not at the first Post.
func New(o Options) (Notifier, error) {
	build, ok := builders[o.Type]
	if !ok {
		return nil, fmt.Errorf("provider type %q is not supported", o.Type)
	}
	n, err := build(&o)
	if err != nil {
		return nil, newRedactor(&o).wrap(fmt.Errorf("%s provider: %w", o.Type, err))
	}
	return n, nil
}

// SupportedTypes lists the provider types New accepts.
func SupportedTypes() []string { return sortedKeysOf(builders) }

type builder func(o *Options) (Notifier, error)

var builders = map[string]builder{
	v1beta3.GenericProvider:         newGeneric,
	v1beta3.GenericHMACProvider:     newGenericHMAC,
	v1beta3.SlackProvider:           newSlack,
	v1beta3.DiscordProvider:         newDiscord,
	v1beta3.RocketProvider:          newRocket,
	v1beta3.MSTeamsProvider:         newMSTeams,
	v1beta3.GoogleChatProvider:      newGoogleChat,
	v1beta3.GooglePubSubProvider:    newGooglePubSub,
	v1beta3.WebexProvider:           newWebex,
	v1beta3.SentryProvider:          newSentry,
	v1beta3.TelegramProvider:        newTelegram,
	v1beta3.LarkProvider:            newLark,
	v1beta3.MatrixProvider:          newMatrix,
	v1beta3.OpsgenieProvider:        newOpsgenie,
	v1beta3.PagerDutyProvider:       newPagerDuty,
	v1beta3.DataDogProvider:         newDataDog,
	v1beta3.GrafanaProvider:         newGrafana,
	v1beta3.AlertManagerProvider:    newAlertmanager,
	v1beta3.AzureEventHubProvider:   newAzureEventHub,
	v1beta3.NATSProvider:            newNATS,
	v1beta3.ZulipProvider:           newZulip,
	v1beta3.GitHubDispatchProvider:  newGitHubDispatch,
	v1beta3.GitHubProvider:          newGitHubStatus,
	v1beta3.GitLabProvider:          newGitLabStatus,
	v1beta3.GiteaProvider:           newGiteaStatus,
	v1beta3.BitbucketProvider:       newBitbucketStatus,
	v1beta3.BitbucketServerProvider: newBitbucketServerStatus,
	v1beta3.AzureDevOpsProvider:     newAzureDevOpsStatus,
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
