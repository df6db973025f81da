package notifier

import (
	"context"
	"errors"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// telegram calls the Bot API's sendMessage; the bot token is part of the URL path, which is
// why errors never show the path.
type telegram struct {
	*httpSender
	endpoint, chat string
}

func newTelegram(o *Options) (Notifier, error) {
	addr := o.Address
	if addr == "" {
		addr = "https://api.telegram.org"
	}
	if err := validateHTTPURL(addr); err != nil {
		return nil, permanent("address: %v", err)
	}
	if o.Channel == "" {
		return nil, errors.New("the channel (chat ID or @channel) is required")
	}
	if o.Token == "" {
		return nil, errors.New("the Secret must hold a 'token' (the bot token)")
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &telegram{httpSender: s, endpoint: strings.TrimSuffix(addr, "/") + "/bot" + o.Token + "/sendMessage", chat: o.Channel}, nil
}

// markdownV2 escapes the characters Telegram's MarkdownV2 reserves.
var markdownV2 = strings.NewReplacer(
	`\`, `\\`, "_", `\_`, "*", `\*`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`, "~", `\~`,
	"`", "\\`", ">", `\>`, "#", `\#`, "+", `\+`, "-", `\-`, "=", `\=`, "|", `\|`, "{", `\{`,
	"}", `\}`, ".", `\.`, "!", `\!`)

func (t *telegram) Post(ctx context.Context, ev eventv1.Event) error {
	var b strings.Builder
	b.WriteString("*" + markdownV2.Replace(objectID(&ev)) + "*\n")
	b.WriteString(markdownV2.Replace(ev.Message))
	for _, k := range sortedKeys(ev.Metadata) {
		b.WriteString("\n\\- *" + markdownV2.Replace(k) + "*: " + markdownV2.Replace(ev.Metadata[k]))
	}
	return t.postJSON(ctx, t.endpoint, map[string]string{
		"chat_id": t.chat, "text": b.String(), "parse_mode": "MarkdownV2"}, nil)
}
