package notifier

import (
	"context"
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// msteams posts an Adaptive Card to a Teams Workflows webhook, or a legacy MessageCard when
// the address is an Office 365 connector (host under .webhook.office.com), as upstream does.
type msteams struct {
	*httpSender
	address string
	legacy  bool
}

func newMSTeams(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &msteams{httpSender: s, address: o.Address, legacy: isOffice365Connector(o.Address)}, nil
}

func isOffice365Connector(address string) bool {
	u, err := url.Parse(address)
	return err == nil && strings.HasSuffix(strings.ToLower(u.Hostname()), ".webhook.office.com")
}

func (t *msteams) Post(ctx context.Context, ev eventv1.Event) error {
	if t.legacy {
		return t.postJSON(ctx, t.address, newMessageCard(&ev), nil)
	}
	return t.postJSON(ctx, t.address, newAdaptiveCardMessage(&ev), nil)
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type adaptiveElement struct {
	Type   string      `json:"type"`
	Text   string      `json:"text,omitempty"`
	Weight string      `json:"weight,omitempty"`
	Size   string      `json:"size,omitempty"`
	Color  string      `json:"color,omitempty"`
	Wrap   bool        `json:"wrap,omitempty"`
	Facts  []teamsFact `json:"facts,omitempty"`
}

type adaptiveCard struct {
	Schema  string            `json:"$schema"`
	Type    string            `json:"type"`
	Version string            `json:"version"`
	Body    []adaptiveElement `json:"body"`
	MSTeams map[string]string `json:"msteams,omitempty"`
}

type teamsAttachment struct {
	ContentType string       `json:"contentType"`
	Content     adaptiveCard `json:"content"`
}

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

func newAdaptiveCardMessage(ev *eventv1.Event) teamsMessage {
	color := "good"
	if isError(ev) {
		color = "attention"
	}
	body := []adaptiveElement{
		{Type: "TextBlock", Text: objectID(ev), Weight: "bolder", Size: "medium", Color: color, Wrap: true},
		{Type: "TextBlock", Text: ev.Message, Wrap: true},
	}
	if len(ev.Metadata) > 0 {
		fs := adaptiveElement{Type: "FactSet"}
		for _, k := range sortedKeys(ev.Metadata) {
			fs.Facts = append(fs.Facts, teamsFact{Title: k, Value: ev.Metadata[k]})
		}
		body = append(body, fs)
	}
	return teamsMessage{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content: adaptiveCard{
			Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
			Type:    "AdaptiveCard",
			Version: "1.4",
			Body:    body,
			MSTeams: map[string]string{"width": "Full"},
		},
	}}}
}

type messageCardFact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type messageCardSection struct {
	ActivityTitle    string            `json:"activityTitle"`
	ActivitySubtitle string            `json:"activitySubtitle"`
	Facts            []messageCardFact `json:"facts,omitempty"`
}

type messageCard struct {
	Type       string               `json:"@type"`
	Context    string               `json:"@context"`
	ThemeColor string               `json:"themeColor"`
	Summary    string               `json:"summary"`
	Sections   []messageCardSection `json:"sections"`
}

func newMessageCard(ev *eventv1.Event) messageCard {
	color := "0076D7"
	if isError(ev) {
		color = "FF0000"
	}
	sec := messageCardSection{ActivityTitle: ev.Message, ActivitySubtitle: objectID(ev)}
	for _, k := range sortedKeys(ev.Metadata) {
		sec.Facts = append(sec.Facts, messageCardFact{Name: k, Value: ev.Metadata[k]})
	}
	return messageCard{Type: "MessageCard", Context: "https://schema.org/extensions", ThemeColor: color,
		Summary: objectID(ev), Sections: []messageCardSection{sec}}
}
