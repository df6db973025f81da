package manager

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
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

// logLines logs an error, an info, a debug (V(1)) and a trace (V(2)) line at --log-level
// level with encoding enc, and returns the lines written.
func logLines(t *testing.T, level, enc string) []string {
	t.Helper()
	var out bytes.Buffer
	log := newLogger(&options.Runtime{LogLevel: level, LogEncoding: enc}, &out)
	log.Error(errors.New("boom"), "failed")
	log.Info("info line")
	log.V(1).Info("debug line")
	log.V(2).Info("trace line")
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

// Upstream's runtime logger (fluxcd/pkg runtime/logger) leaves zap's level names as they
// are: a trace line reads "Level(-2)" in JSON and "LEVEL(-2)" on the console, a debug line
// "debug"/"DEBUG", and flux logs shows and filters them by those names. At trace and debug
// level error lines carry a stack trace; at info and error level they do not.
func TestLoggerLevelsAndStackTracesAsUpstream(t *testing.T) {
	type line struct {
		level, msg string
		stack      bool
	}
	tests := []struct {
		level string
		want  []line
	}{
		{"trace", []line{{"error", "failed", true}, {"info", "info line", false}, {"debug", "debug line", false}, {"Level(-2)", "trace line", false}}},
		{"debug", []line{{"error", "failed", true}, {"info", "info line", false}, {"debug", "debug line", false}}},
		{"info", []line{{"error", "failed", false}, {"info", "info line", false}}},
		{"error", []line{{"error", "failed", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			var got []line
			for _, l := range logLines(t, tt.level, "json") {
				var entry map[string]any
				if err := json.Unmarshal([]byte(l), &entry); err != nil {
					t.Fatalf("json line %q: %v", l, err)
				}
				level, _ := entry["level"].(string)
				msg, _ := entry["msg"].(string)
				_, stack := entry["stacktrace"]
				got = append(got, line{level, msg, stack})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("--log-level=%s json lines (level, msg, stacktrace) = %v, want %v", tt.level, got, tt.want)
			}
		})
	}
	// The console encoding names the levels in capitals, the custom one as zap does.
	console := strings.Join(logLines(t, "trace", "console"), "\n")
	for _, want := range []string{"\tERROR\tfailed\t", "\tINFO\tinfo line", "\tDEBUG\tdebug line", "\tLEVEL(-2)\ttrace line"} {
		if !strings.Contains(console, want) {
			t.Errorf("console output %q does not hold %q", console, want)
		}
	}
}
