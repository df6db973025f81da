package notifier

import (
	"context"
	"net/http"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// grafana creates an annotation (POST /api/annotations) tagged `flux`, with the reporting
// controller, the object and the metadata as tags. A token wins over username/password.
type grafana struct {
	*httpSender
	address, token, username, password string
}

func newGrafana(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &grafana{httpSender: s, address: o.Address, token: o.Token, username: o.Username, password: o.Password}, nil
}

type grafanaAnnotation struct {
	Time int64    `json:"time"`
	Text string   `json:"text"`
	Tags []string `json:"tags"`
}

func (g *grafana) Post(ctx context.Context, ev eventv1.Event) error {
	ts := ev.Timestamp.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	o := ev.InvolvedObject
	tags := []string{"flux", ev.ReportingController}
	for _, k := range sortedKeys(ev.Metadata) {
		tags = append(tags, k+": "+ev.Metadata[k])
	}
	tags = append(tags, "kind: "+o.Kind, "name: "+o.Name, "namespace: "+o.Namespace)
	req := request{url: g.address, body: grafanaAnnotation{Time: ts.UnixMilli(), Text: objectID(&ev) + ": " + ev.Message, Tags: tags}}
	switch {
	case g.token != "":
		req.header = http.Header{"Authorization": {"Bearer " + g.token}}
	case g.username != "" || g.password != "":
		req.basicAuth, req.basicUser, req.basicPass = true, g.username, g.password
	}
	_, err := g.do(ctx, req)
	return err
}
