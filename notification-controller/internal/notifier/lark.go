package notifier

import (
	"context"
	"encoding/json"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// lark posts an interactive message card to a Lark (Feishu) custom bot webhook.
type lark struct {
	*httpSender
	address string
}

func newLark(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &lark{httpSender: s, address: o.Address}, nil
}

type larkText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type larkCard struct {
	Config struct {
		WideScreenMode bool `json:"wide_screen_mode"`
	} `json:"config"`
	Header struct {
		Title    larkText `json:"title"`
		Template string   `json:"template"`
	} `json:"header"`
	Elements []struct {
		Tag  string   `json:"tag"`
		Text larkText `json:"text"`
	} `json:"elements"`
}

func newLarkMessage(ev *eventv1.Event) map[string]any {
	var c larkCard
	c.Config.WideScreenMode = true
	c.Header.Title = larkText{Tag: "plain_text", Content: objectID(ev)}
	c.Header.Template = "turquoise"
	if isError(ev) {
		c.Header.Template = "red"
	}
	content := ev.Message
	if m := metadataLines(ev, ""); m != "" {
		content += "\n\n" + m
	}
	c.Elements = append(c.Elements, struct {
		Tag  string   `json:"tag"`
		Text larkText `json:"text"`
	}{Tag: "div", Text: larkText{Tag: "lark_md", Content: content}})
	return map[string]any{"msg_type": "interactive", "card": c}
}

func (l *lark) Post(ctx context.Context, ev eventv1.Event) error {
	body, err := l.do(ctx, request{url: l.address, body: newLarkMessage(&ev)})
	if err != nil {
		return err
	}
	// Lark answers 200 with a non-zero code when it refuses the message.
	var answer struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal(body, &answer) == nil && answer.Code != 0 {
		return l.red.wrap(permanent("POST %s: Lark refused the message: %d %s", redactURL(l.address), answer.Code, answer.Msg))
	}
	return nil
}
