package manager

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"gotk.dev/pkg/options"
)

// Upstream controllers log ISO-8601 timestamps ("ts":"2026-12-06T13:09:39.123Z"), which
// log tooling parses; zap's epoch seconds would break it.
func TestLoggerWritesISO8601Timestamps(t *testing.T) {
	iso := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{4})`)
	for _, enc := range []string{"json", "console"} {
		var out bytes.Buffer
		newLogger(&options.Runtime{LogLevel: "info", LogEncoding: enc}, &out).Info("hello")
		line := out.String()
		if enc == "console" {
			if !iso.MatchString(line) {
				t.Errorf("console line %q does not start with an ISO-8601 time", line)
			}
			continue
		}
		var entry map[string]any
		if err := json.Unmarshal(out.Bytes(), &entry); err != nil {
			t.Fatalf("json line %q: %v", line, err)
		}
		if ts, _ := entry["ts"].(string); !iso.MatchString(ts) {
			t.Errorf("json ts = %v (%T), want an ISO-8601 string", entry["ts"], entry["ts"])
		}
	}
}
