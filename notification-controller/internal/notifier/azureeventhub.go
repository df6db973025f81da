package notifier

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// azureeventhub sends the event as JSON to an Event Hub, authenticating either with a SAS
// connection string (the address) or with a JWT (the token) for the hub named by the address
// in the namespace named by the channel.
type azureeventhub struct {
	mu       sync.Mutex
	producer *azeventhubs.ProducerClient
	build    func() (*azeventhubs.ProducerClient, error)
	red      *redactor
}

// staticToken is an azcore.TokenCredential for a JWT the user keeps fresh in the Secret.
type staticToken string

func (t staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(t), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func newAzureEventHub(o *Options) (Notifier, error) {
	opts := &azeventhubs.ProducerClientOptions{
		RetryOptions: azeventhubs.RetryOptions{MaxRetries: -1}, // WithRetry decides
	}
	n := &azureeventhub{red: newRedactor(o)}
	switch {
	case strings.HasPrefix(strings.TrimSpace(o.Address), "Endpoint="):
		conn := o.Address
		n.red.secrets = append(n.red.secrets, conn)
		if _, key, ok := strings.Cut(conn, "SharedAccessKey="); ok {
			key, _, _ = strings.Cut(key, ";")
			n.red.secrets = append([]string{key}, n.red.secrets...)
		}
		n.build = func() (*azeventhubs.ProducerClient, error) {
			return azeventhubs.NewProducerClientFromConnectionString(conn, "", opts)
		}
	case o.Token != "":
		if o.Address == "" || o.Channel == "" {
			return nil, permanent("with a JWT token, the address (Event Hub name) and channel (namespace) are required")
		}
		ns := o.Channel
		if !strings.Contains(ns, ".") {
			ns += ".servicebus.windows.net"
		}
		hub, tok := o.Address, staticToken(o.Token)
		n.build = func() (*azeventhubs.ProducerClient, error) {
			return azeventhubs.NewProducerClient(ns, hub, tok, opts)
		}
	default:
		return nil, permanent("the address must be a SAS connection string (Endpoint=sb://...), or the Secret must hold a JWT 'token'")
	}
	return n, nil
}

func (a *azureeventhub) client() (*azeventhubs.ProducerClient, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.producer != nil {
		return a.producer, nil
	}
	p, err := a.build()
	if err != nil {
		return nil, a.red.wrap(permanent("%v", err))
	}
	a.producer = p
	return p, nil
}

func (a *azureeventhub) Post(ctx context.Context, ev eventv1.Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return permanent("encoding the event: %v", err)
	}
	p, err := a.client()
	if err != nil {
		return err
	}
	batch, err := p.NewEventDataBatch(ctx, nil)
	if err != nil {
		return a.red.wrap(err)
	}
	if err := batch.AddEventData(&azeventhubs.EventData{Body: body}, nil); err != nil {
		return a.red.wrap(permanent("%v", err))
	}
	return a.red.wrap(p.SendEventDataBatch(ctx, batch, nil))
}

func (a *azureeventhub) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.producer == nil {
		return nil
	}
	err := a.producer.Close(context.Background())
	a.producer = nil
	return err
}
