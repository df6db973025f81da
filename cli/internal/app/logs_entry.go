package app

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// logEntry is the part of a controller's JSON log line flux logs filters and prints. Flux
// controllers log with zap through controller-runtime: "ts", "level", "msg", "error", and for
// reconciler lines "controllerKind", "namespace" and "name".
type logEntry struct {
	Timestamp string
	Level     string
	Message   string
	Error     string
	Kind      string
	Namespace string
	Name      string
}

// parseLogLine reads one JSON log line. Lines that are not JSON objects (a panic trace, a
// banner) are reported as not ok and skipped by the caller.
func parseLogLine(line []byte) (logEntry, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return logEntry{}, false
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return logEntry{}, false
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			var s string
			if v, ok := raw[k]; ok && json.Unmarshal(v, &s) == nil && s != "" {
				return s
			}
		}
		return ""
	}
	e := logEntry{
		Timestamp: logTimestamp(raw["ts"]),
		Level:     str("level"),
		Message:   str("msg"),
		Error:     str("error"),
		// "reconciler kind" is what controllers before controller-runtime's structured
		// logging wrote.
		Kind:      str("controllerKind", "reconciler kind"),
		Namespace: str("namespace"),
		Name:      str("name"),
	}
	if e.Kind != "" && (e.Namespace == "" || e.Name == "") {
		// controller-runtime also logs the object under its kind: "Kustomization":
		// {"name": ..., "namespace": ...}.
		var obj struct{ Name, Namespace string }
		if v, ok := raw[e.Kind]; ok && json.Unmarshal(v, &obj) == nil {
			e.Namespace = cmp.Or(e.Namespace, obj.Namespace)
			e.Name = cmp.Or(e.Name, obj.Name)
		}
	}
	return e, true
}

// logTimestamp renders "ts" as an ISO 8601 time in UTC: zap writes either a string (Flux's
// default encoder) or seconds since the epoch as a number (zap's production default).
func logTimestamp(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return string(v)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format("2006-01-02T15:04:05.000Z")
}

// logFilter selects log entries like upstream flux logs: exact level, kind without regard
// to case, exact name, and the namespace unless all namespaces are wanted.
type logFilter struct {
	Level, Kind, Name, Namespace string
	AllNamespaces                bool
	// Since drops entries older than this time (files have no server to do it).
	Since time.Time
}

func (f logFilter) match(e logEntry) bool {
	switch {
	case f.Level != "" && !strings.EqualFold(f.Level, e.Level):
		return false
	case f.Kind != "" && !strings.EqualFold(f.Kind, e.Kind):
		return false
	case f.Name != "" && f.Name != e.Name:
		return false
	case !f.AllNamespaces && f.Namespace != e.Namespace:
		return false
	}
	if !f.Since.IsZero() {
		if t, err := time.Parse(time.RFC3339Nano, e.Timestamp); err == nil && t.Before(f.Since) {
			return false
		}
	}
	return true
}

// format prints an entry as "<ts> <level> <Kind>/<namespace>/<name> - <msg>[: <error>]".
func (e logEntry) format() string {
	var b strings.Builder
	b.WriteString(e.Timestamp)
	b.WriteByte(' ')
	b.WriteString(e.Level)
	b.WriteByte(' ')
	// Without a kind, "name" is not an object's (controller-runtime also logs servers and
	// probes by name).
	if e.Kind != "" {
		b.WriteString(e.Kind)
		if e.Namespace != "" {
			b.WriteByte('/')
			b.WriteString(e.Namespace)
		}
		if e.Name != "" {
			b.WriteByte('/')
			b.WriteString(e.Name)
		}
		b.WriteByte(' ')
	}
	b.WriteString("- ")
	b.WriteString(e.Message)
	if e.Error != "" {
		b.WriteString(": ")
		b.WriteString(e.Error)
	}
	b.WriteByte('\n')
	return b.String()
}
