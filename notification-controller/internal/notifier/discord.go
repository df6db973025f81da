package notifier

import (
	"context"
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// discord posts a Slack-shaped message to the webhook's Slack-compatible endpoint (`/slack`).
type discord struct {
	*httpSender
	address, username string
}

func newDiscord(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	u, _ := url.Parse(o.Address)
	if !strings.HasSuffix(u.Path, "/slack") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/slack"
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &discord{httpSender: s, address: u.String(), username: o.Username}, nil
}

func (d *discord) Post(ctx context.Context, ev eventv1.Event) error {
	// The channel is fixed by the webhook: none is sent.
	return d.postJSON(ctx, d.address, newSlackPayload(&ev, "", d.username), nil)
}
