package notifier

import (
	"context"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// googlechat posts a cards-v1 message to a Google Chat space webhook.
type googlechat struct {
	*httpSender
	address string
}

func newGoogleChat(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &googlechat{httpSender: s, address: o.Address}, nil
}

type gchatKeyValue struct {
	TopLabel         string `json:"topLabel"`
	Content          string `json:"content"`
	ContentMultiline string `json:"contentMultiline"`
}

type gchatWidget struct {
	TextParagraph *struct {
		Text string `json:"text"`
	} `json:"textParagraph,omitempty"`
	KeyValue *gchatKeyValue `json:"keyValue,omitempty"`
}

type gchatSection struct {
	Header  string        `json:"header,omitempty"`
	Widgets []gchatWidget `json:"widgets"`
}

type gchatCard struct {
	Header struct {
		Title    string `json:"title"`
		SubTitle string `json:"subtitle"`
		ImageURL string `json:"imageUrl"`
	} `json:"header"`
	Sections []gchatSection `json:"sections"`
}

type gchatMessage struct {
	Cards []gchatCard `json:"cards"`
}

func newGoogleChatMessage(ev *eventv1.Event) gchatMessage {
	var c gchatCard
	c.Header.Title = objectID(ev)
	c.Header.SubTitle = ev.ReportingController
	c.Header.ImageURL = fluxIconURL
	msg := gchatWidget{TextParagraph: &struct {
		Text string `json:"text"`
	}{Text: ev.Message}}
	c.Sections = []gchatSection{{Widgets: []gchatWidget{msg}}}
	if len(ev.Metadata) > 0 {
		meta := gchatSection{Header: "Metadata"}
		for _, k := range sortedKeys(ev.Metadata) {
			meta.Widgets = append(meta.Widgets, gchatWidget{KeyValue: &gchatKeyValue{
				TopLabel: k, Content: ev.Metadata[k], ContentMultiline: "true"}})
		}
		c.Sections = append(c.Sections, meta)
	}
	return gchatMessage{Cards: []gchatCard{c}}
}

func (g *googlechat) Post(ctx context.Context, ev eventv1.Event) error {
	return g.postJSON(ctx, g.address, newGoogleChatMessage(&ev), nil)
}
