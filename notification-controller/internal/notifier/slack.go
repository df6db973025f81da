package notifier

import (
	"context"
	"encoding/json"
	"net/http"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// fluxIconURL is the avatar chat messages are posted with.
const fluxIconURL = "https://avatars.githubusercontent.com/u/52158677"

// slackPayload is Slack's message with one attachment; Discord's /slack endpoint and
// Rocket.Chat's incoming webhooks accept the same shape.
type slackPayload struct {
	Channel     string            `json:"channel,omitempty"`
	Username    string            `json:"username,omitempty"`
	IconURL     string            `json:"icon_url,omitempty"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Color      string       `json:"color"`
	AuthorName string       `json:"author_name"`
	Text       string       `json:"text"`
	MrkdwnIn   []string     `json:"mrkdwn_in"`
	Fields     []slackField `json:"fields,omitempty"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

func newSlackPayload(ev *eventv1.Event, channel, username string) slackPayload {
	if username == "" {
		username = ev.ReportingController
	}
	color := "good"
	if isError(ev) {
		color = "danger"
	}
	a := slackAttachment{Color: color, AuthorName: objectID(ev), Text: ev.Message, MrkdwnIn: []string{"text"}}
	for _, k := range sortedKeys(ev.Metadata) {
		a.Fields = append(a.Fields, slackField{Title: k, Value: ev.Metadata[k]})
	}
	return slackPayload{Channel: channel, Username: username, IconURL: fluxIconURL, Attachments: []slackAttachment{a}}
}

// slack posts to an incoming webhook (address in the Secret) or to chat.postMessage with a
// bot token (Authorization: Bearer).
type slack struct {
	*httpSender
	address, channel, username, token string
}

func newSlack(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &slack{httpSender: s, address: o.Address, channel: o.Channel, username: o.Username, token: o.Token}, nil
}

func (s *slack) Post(ctx context.Context, ev eventv1.Event) error {
	h := http.Header{}
	if s.token != "" {
		h.Set("Authorization", "Bearer "+s.token)
	}
	body, err := s.do(ctx, request{url: s.address, body: newSlackPayload(&ev, s.channel, s.username), header: h})
	if err != nil {
		return err
	}
	// chat.postMessage answers 200 with {"ok":false,"error":...} when it refuses a message;
	// incoming webhooks answer a plain "ok".
	var answer struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &answer) == nil && answer.OK != nil && !*answer.OK {
		return s.red.wrap(permanent("POST %s: Slack refused the message: %s", redactURL(s.address), answer.Error))
	}
	return nil
}
