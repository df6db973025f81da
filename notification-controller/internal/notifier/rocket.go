package notifier

import (
	"context"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// rocket posts a Slack-shaped message to a Rocket.Chat incoming webhook.
type rocket struct {
	*httpSender
	address, channel, username string
}

func newRocket(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &rocket{httpSender: s, address: o.Address, channel: o.Channel, username: o.Username}, nil
}

func (r *rocket) Post(ctx context.Context, ev eventv1.Event) error {
	return r.postJSON(ctx, r.address, newSlackPayload(&ev, r.channel, r.username), nil)
}
