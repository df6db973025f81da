package notifier

import (
	"context"
	"errors"
	"strings"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// pagerduty sends Events API v2 events: an error triggers an incident keyed by the object,
// an info event resolves it and is also recorded as a change event on the service timeline.
type pagerduty struct {
	*httpSender
	base, routingKey string
}

func newPagerDuty(o *Options) (Notifier, error) {
	addr := o.Address
	if addr == "" {
		addr = "https://events.pagerduty.com"
	}
	if err := validateHTTPURL(addr); err != nil {
		return nil, permanent("address: %v", err)
	}
	if o.Channel == "" {
		return nil, errors.New("the channel (integration routing key) is required")
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &pagerduty{httpSender: s, base: strings.TrimSuffix(addr, "/"), routingKey: o.Channel}, nil
}

type pagerdutyPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity,omitempty"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

type pagerdutyEvent struct {
	RoutingKey  string           `json:"routing_key"`
	EventAction string           `json:"event_action,omitempty"`
	DedupKey    string           `json:"dedup_key,omitempty"`
	Payload     pagerdutyPayload `json:"payload"`
}

func (p *pagerduty) Post(ctx context.Context, ev eventv1.Event) error {
	ts := ev.Timestamp.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	payload := pagerdutyPayload{
		Summary:       objectID(&ev) + ": " + ev.Message,
		Source:        "Flux " + ev.ReportingController,
		Timestamp:     ts.UTC().Format(time.RFC3339),
		Component:     ev.InvolvedObject.Name,
		Group:         ev.InvolvedObject.Kind,
		Class:         ev.Reason,
		CustomDetails: ev.Metadata,
	}
	// PagerDuty's summary is at most 1024 characters.
	if len(payload.Summary) > 1024 {
		payload.Summary = payload.Summary[:1021] + "..."
	}
	alert := pagerdutyEvent{RoutingKey: p.routingKey, DedupKey: objectID(&ev), Payload: payload}
	if isError(&ev) {
		alert.EventAction = "trigger"
		alert.Payload.Severity = "error"
		return p.postJSON(ctx, p.base+"/v2/enqueue", alert, nil)
	}
	alert.EventAction = "resolve"
	alert.Payload.Severity = "info"
	if err := p.postJSON(ctx, p.base+"/v2/enqueue", alert, nil); err != nil {
		return err
	}
	change := pagerdutyEvent{RoutingKey: p.routingKey, Payload: pagerdutyPayload{
		Summary: payload.Summary, Source: payload.Source, Timestamp: payload.Timestamp, CustomDetails: ev.Metadata}}
	return p.postJSON(ctx, p.base+"/v2/change/enqueue", change, nil)
}
