package notifier

import (
	"context"
	"errors"
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// zulip sends a stream message (POST /api/v1/messages) as the bot whose email is the username
// and API key the password. The channel is `<stream>` or `<stream>/<topic>`; without a topic
// each object gets its own topic, so its events form one thread.
type zulip struct {
	*httpSender
	endpoint, stream, topic, user, apiKey string
}

func newZulip(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	if o.Channel == "" {
		return nil, errors.New("the channel (`stream` or `stream/topic`) is required")
	}
	if o.Username == "" || o.Password == "" {
		return nil, errors.New("the Secret must hold 'username' (the bot's email) and 'password' (its API key)")
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	stream, topic, _ := strings.Cut(o.Channel, "/")
	return &zulip{httpSender: s, endpoint: strings.TrimSuffix(o.Address, "/") + "/api/v1/messages",
		stream: stream, topic: topic, user: o.Username, apiKey: o.Password}, nil
}

func (z *zulip) Post(ctx context.Context, ev eventv1.Event) error {
	topic := z.topic
	if topic == "" {
		topic = objectID(&ev)
	}
	content := "**" + objectID(&ev) + "**\n" + ev.Message
	if m := metadataLines(&ev, "* "); m != "" {
		content += "\n" + m
	}
	form := url.Values{"type": {"stream"}, "to": {z.stream}, "topic": {topic}, "content": {content}}
	_, err := z.do(ctx, request{url: z.endpoint, body: []byte(form.Encode()),
		contentType: "application/x-www-form-urlencoded", basicAuth: true, basicUser: z.user, basicPass: z.apiKey})
	return err
}
