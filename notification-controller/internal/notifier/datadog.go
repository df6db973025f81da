package notifier

import (
	"context"
	"errors"
	"net/http"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// datadog posts an event to the Events API (POST /api/v1/events) with the metadata as tags.
type datadog struct {
	*httpSender
	endpoint, apiKey string
}

func newDataDog(o *Options) (Notifier, error) {
	addr := o.Address
	if addr == "" {
		addr = "https://api.datadoghq.com"
	}
	if err := validateHTTPURL(addr); err != nil {
		return nil, permanent("address: %v", err)
	}
	if o.Token == "" {
		return nil, errors.New("the Secret must hold a 'token' (a Datadog API key)")
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &datadog{httpSender: s, endpoint: strings.TrimSuffix(addr, "/") + "/api/v1/events", apiKey: o.Token}, nil
}

type datadogEvent struct {
	Title          string   `json:"title"`
	Text           string   `json:"text"`
	Tags           []string `json:"tags"`
	AlertType      string   `json:"alert_type"`
	SourceTypeName string   `json:"source_type_name"`
	AggregationKey string   `json:"aggregation_key"`
}

func (d *datadog) Post(ctx context.Context, ev eventv1.Event) error {
	o := ev.InvolvedObject
	tags := []string{
		"flux",
		"involvedObjectKind:" + o.Kind,
		"involvedObjectName:" + o.Name,
		"involvedObjectNamespace:" + o.Namespace,
		"reason:" + ev.Reason,
		"reportingController:" + ev.ReportingController,
	}
	for _, k := range sortedKeys(ev.Metadata) {
		tags = append(tags, k+":"+ev.Metadata[k])
	}
	alertType := "info"
	if isError(&ev) {
		alertType = "error"
	}
	body := datadogEvent{Title: objectID(&ev), Text: ev.Message, Tags: tags, AlertType: alertType,
		SourceTypeName: "fluxcd", AggregationKey: objectID(&ev)}
	return d.postJSON(ctx, d.endpoint, body, http.Header{"DD-API-KEY": {d.apiKey}})
}
