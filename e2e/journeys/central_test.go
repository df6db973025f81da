package journeys_test

import (
	"strings"
	"sync"

	"gotk.dev/internal/testing/alertsink"
)

// central is the central alerting endpoint every cluster's notification-controller
// forwards to (Provider type generic-hmac), with one HMAC key for the platform and one per
// tenant. Started once, on first use, for the whole run (both clusters point at it);
// TestMain closes it.
var (
	central     *alertsink.Sink
	centralOnce sync.Once
)

// platformSender is the central receiver's name for the platform's key.
const platformSender = "platform"

// centralAlerts returns the central receiver, starting it on first use.
func centralAlerts() *alertsink.Sink {
	centralOnce.Do(func() {
		s, err := alertsink.Start(alertsink.Options{Platform: platformSender, Tenants: tenants})
		if err != nil {
			panic(err)
		}
		central = s
	})
	return central
}

// centralSummary lists what arrived, for failure messages.
func centralSummary(c *alertsink.Sink) string {
	var b strings.Builder
	for _, rec := range c.Events() {
		ev, o := rec.Event, rec.Event.InvolvedObject
		b.WriteString("\n  " + rec.Sender + ": " + ev.Metadata["cluster"] + " " + o.Kind + "/" + o.Namespace + "/" + o.Name + " " + ev.Severity + " " + ev.Reason)
	}
	return b.String()
}
