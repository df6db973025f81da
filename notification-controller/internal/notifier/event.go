package notifier

import (
	"sort"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"

	"gotk.dev/notification-controller/api/v1beta3"
)

// SummaryKey is the metadata key an Alert's spec.summary is delivered under.
const SummaryKey = "summary"

// PrepareEvent returns a copy of ev carrying the Alert's spec.summary (as metadata `summary`)
// and spec.eventMetadata. A key already in the event is never overridden: the emitter's value
// wins, and the overlapping keys are returned so the caller can log them.
func PrepareEvent(ev eventv1.Event, alert *v1beta3.Alert) (eventv1.Event, []string) {
	out := ev
	out.Metadata = make(map[string]string, len(ev.Metadata)+len(alert.Spec.EventMetadata)+1)
	for k, v := range ev.Metadata {
		out.Metadata[k] = v
	}
	var conflicts []string
	add := func(k, v string) {
		if _, ok := out.Metadata[k]; ok {
			conflicts = append(conflicts, k)
			return
		}
		out.Metadata[k] = v
	}
	if alert.Spec.Summary != "" {
		add(SummaryKey, alert.Spec.Summary)
	}
	for _, k := range sortedKeys(alert.Spec.EventMetadata) {
		add(k, alert.Spec.EventMetadata[k])
	}
	if len(out.Metadata) == 0 {
		out.Metadata = nil
	}
	return out, conflicts
}

// objectID is how chat messages name the involved object: `kind/name.namespace`, kind in
// lower case.
func objectID(ev *eventv1.Event) string {
	o := ev.InvolvedObject
	return strings.ToLower(o.Kind) + "/" + o.Name + "." + o.Namespace
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isError(ev *eventv1.Event) bool { return ev.Severity == eventv1.EventSeverityError }

// metadataLines renders metadata as `key: value` lines, sorted by key.
func metadataLines(ev *eventv1.Event, bullet string) string {
	var b strings.Builder
	for _, k := range sortedKeys(ev.Metadata) {
		b.WriteString(bullet)
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(ev.Metadata[k])
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// plainText is the message of text-only providers: the object, the message and the metadata.
func plainText(ev *eventv1.Event) string {
	s := objectID(ev) + "\n" + ev.Message
	if m := metadataLines(ev, "- "); m != "" {
		s += "\n" + m
	}
	return s
}
