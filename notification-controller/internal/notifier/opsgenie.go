package notifier

import (
	"context"
	"errors"
	"net/http"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// opsgenie creates an alert (POST /v2/alerts) with the metadata as details.
type opsgenie struct {
	*httpSender
	address, token string
}

func newOpsgenie(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	if o.Token == "" {
		return nil, errors.New("the Secret must hold a 'token' (an Opsgenie API key)")
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &opsgenie{httpSender: s, address: o.Address, token: o.Token}, nil
}

type opsgenieAlert struct {
	Message     string            `json:"message"`
	Description string            `json:"description"`
	Details     map[string]string `json:"details"`
	Tags        []string          `json:"tags,omitempty"`
}

func (g *opsgenie) Post(ctx context.Context, ev eventv1.Event) error {
	details := map[string]string{"severity": ev.Severity, "reason": ev.Reason}
	for k, v := range ev.Metadata {
		details[k] = v
	}
	a := opsgenieAlert{Message: objectID(&ev), Description: ev.Message, Details: details,
		Tags: []string{"flux", ev.ReportingController}}
	h := http.Header{"Authorization": {"GenieKey " + g.token}}
	return g.postJSON(ctx, g.address, a, h)
}
