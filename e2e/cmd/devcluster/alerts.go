package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"gotk.dev/internal/testing/alertsink"
)

// demoTenants are the tenants of the example repository (tenants/<team>); each gets its
// own alerting key, derived from --alerts-key.
var demoTenants = []string{"team-a", "team-b"}

// startAlerts serves the demo's central alerting endpoint on 127.0.0.1: the platform
// repository's generic-hmac Providers post every Flux event here, the platform's signed with
// the key derived from seed for "platform", each tenant's with its own. A post with no valid
// signature (401) or a tenant speaking for someone else (403) is refused; an accepted event
// is appended to logPath as one line (`tail -f` it to watch the fleet).
func startAlerts(seed, logPath string) (*alertsink.Sink, error) {
	if seed == "" {
		return nil, fmt.Errorf("--alerts-key is required")
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	return alertsink.Start(alertsink.Options{Platform: "platform", Tenants: demoTenants, Seed: seed, OnAccept: func(rec alertsink.Received) {
		ev, o := rec.Event, rec.Event.InvolvedObject
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(f, "%s cluster=%s sender=%s %s %s/%s/%s %s: %s\n", time.Now().Format(time.RFC3339), ev.Metadata["cluster"], rec.Sender,
			ev.Severity, o.Kind, o.Namespace, o.Name, ev.Reason, strings.ReplaceAll(ev.Message, "\n", "; "))
	}})
}

// alertsKeyMarks are the example repository's placeholders of the alerting keys and the
// keys of sink, as strings.NewReplacer takes them.
func alertsKeyMarks(sink *alertsink.Sink) []string {
	var marks []string
	for mark, key := range sink.KeyPlaceholders(markAlertsKey) {
		marks = append(marks, mark, key)
	}
	return marks
}
