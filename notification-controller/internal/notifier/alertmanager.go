package notifier

import (
	"context"
	"net/http"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// alertmanager posts one firing alert to Alertmanager's v2 API (POST /api/v2/alerts): the
// metadata become labels, the message and summary annotations. Basic auth comes from the
// address's userinfo, bearer auth from the token.
type alertmanager struct {
	*httpSender
	address, token string
}

func newAlertmanager(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &alertmanager{httpSender: s, address: o.Address, token: o.Token}, nil
}

type alertmanagerAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
}

func (a *alertmanager) Post(ctx context.Context, ev eventv1.Event) error {
	labels := map[string]string{}
	annotations := map[string]string{"message": ev.Message}
	for k, v := range ev.Metadata {
		if k == SummaryKey {
			annotations[SummaryKey] = v
			continue
		}
		labels[k] = v
	}
	o := ev.InvolvedObject
	labels["alertname"] = "Flux" + o.Kind + ev.Reason
	labels["severity"] = ev.Severity
	labels["reason"] = ev.Reason
	labels["kind"] = o.Kind
	labels["name"] = o.Name
	labels["namespace"] = o.Namespace
	start := ev.Timestamp.Time
	if start.IsZero() {
		start = time.Now()
	}
	var h http.Header
	if a.token != "" {
		h = http.Header{"Authorization": {"Bearer " + a.token}}
	}
	return a.postJSON(ctx, a.address, []alertmanagerAlert{{Status: "firing", Labels: labels, Annotations: annotations, StartsAt: start.UTC()}}, h)
}
