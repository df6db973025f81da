package notifier

import (
	"context"
	"encoding/json"
	"sync"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// googlepubsub publishes the event as JSON on the topic named by the channel, in the GCP
// project named by the address, with the Secret's headers as message attributes. The token,
// when set, is a service account JSON key; otherwise the Google libraries' default
// credentials (workload identity) apply. PUBSUB_EMULATOR_HOST is honoured by the library.
type googlepubsub struct {
	mu         sync.Mutex
	client     *pubsub.Client
	publisher  *pubsub.Publisher
	project    string
	topic      string
	attributes map[string]string
	clientOpts []option.ClientOption
	red        *redactor
}

func newGooglePubSub(o *Options) (Notifier, error) {
	if o.Address == "" {
		return nil, permanent("the address (GCP project ID) is required")
	}
	if o.Channel == "" {
		return nil, permanent("the channel (Pub/Sub topic ID) is required")
	}
	var opts []option.ClientOption
	if o.Token != "" {
		opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, []byte(o.Token)))
	}
	return &googlepubsub{project: o.Address, topic: o.Channel, attributes: o.Headers, clientOpts: opts, red: newRedactor(o)}, nil
}

func (g *googlepubsub) connect(ctx context.Context) (*pubsub.Publisher, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.publisher != nil {
		return g.publisher, nil
	}
	// The client outlives this call's context: it is closed by Close.
	c, err := pubsub.NewClient(context.WithoutCancel(ctx), g.project, g.clientOpts...)
	if err != nil {
		return nil, g.red.wrap(err)
	}
	g.client = c
	g.publisher = c.Publisher(g.topic)
	return g.publisher, nil
}

func (g *googlepubsub) Post(ctx context.Context, ev eventv1.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return permanent("encoding the event: %v", err)
	}
	p, err := g.connect(ctx)
	if err != nil {
		return err
	}
	if _, err := p.Publish(ctx, &pubsub.Message{Data: data, Attributes: g.attributes}).Get(ctx); err != nil {
		return g.red.wrap(err)
	}
	return nil
}

func (g *googlepubsub) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.client == nil {
		return nil
	}
	g.publisher.Stop()
	err := g.client.Close()
	g.client, g.publisher = nil, nil
	return err
}
