package notifier

import (
	"context"
	"errors"
	"net/http"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// webex creates a message in the room named by the channel (POST /v1/messages).
type webex struct {
	*httpSender
	address, room, token string
}

func newWebex(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	if o.Channel == "" {
		return nil, errors.New("the channel (Webex room ID) is required")
	}
	if o.Token == "" {
		return nil, errors.New("the Secret must hold a 'token' (a Webex bot access token)")
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &webex{httpSender: s, address: o.Address, room: o.Channel, token: o.Token}, nil
}

func (w *webex) Post(ctx context.Context, ev eventv1.Event) error {
	text := "**" + objectID(&ev) + "**\n\n" + ev.Message
	if m := metadataLines(&ev, "* "); m != "" {
		text += "\n\n" + m
	}
	h := http.Header{"Authorization": {"Bearer " + w.token}}
	return w.postJSON(ctx, w.address, map[string]string{"roomId": w.room, "markdown": text}, h)
}
