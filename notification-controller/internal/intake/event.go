// Package intake is the HTTP endpoint (--events-addr, path `/`) where the Flux controllers
// POST their events. It bounds and validates the payload, keeps only the metadata meant for
// notifications, suppresses duplicates within --rate-limit-interval (429, as upstream) and
// hands each accepted event to a callback.
package intake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// maxMessageLength is the Event API's limit on `message`.
const maxMessageLength = 39000

// errTooLarge is returned by DecodeEvent when the body exceeds its limit.
var errTooLarge = errors.New("request body too large")

// DecodeEvent reads at most limit bytes of JSON from r and validates it as an Event: the
// involved object's kind, name and namespace, the severity, the message and the reason are
// required, as upstream requires them.
func DecodeEvent(r io.Reader, limit int64) (*eventv1.Event, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, errTooLarge
	}
	ev := &eventv1.Event{}
	if err := json.Unmarshal(body, ev); err != nil {
		return nil, fmt.Errorf("the body is not an Event: %w", err)
	}
	if err := Validate(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// Validate checks the fields upstream requires, naming every missing or invalid one.
func Validate(ev *eventv1.Event) error {
	var problems []string
	if ev.InvolvedObject.Kind == "" {
		problems = append(problems, "involvedObject.kind is required")
	}
	if ev.InvolvedObject.Name == "" {
		problems = append(problems, "involvedObject.name is required")
	}
	if ev.InvolvedObject.Namespace == "" {
		problems = append(problems, "involvedObject.namespace is required")
	}
	switch ev.Severity {
	case eventv1.EventSeverityInfo, eventv1.EventSeverityError, eventv1.EventSeverityTrace:
	case "":
		problems = append(problems, "severity is required")
	default:
		problems = append(problems, fmt.Sprintf("severity %q is not one of trace, info, error", truncate(ev.Severity, 32)))
	}
	if ev.Message == "" {
		problems = append(problems, "message is required")
	} else if len(ev.Message) > maxMessageLength {
		problems = append(problems, fmt.Sprintf("message is longer than %d characters", maxMessageLength))
	}
	if ev.Reason == "" {
		problems = append(problems, "reason is required")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid event: %s", strings.Join(problems, "; "))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// eventGroupPrefix is the metadata prefix every controller may use, whatever its API group.
const eventGroupPrefix = eventv1.Group + "/"

// CleanupMetadata keeps only the metadata keys meant for notifications, as upstream does: keys
// prefixed with the involved object's API group (`kustomize.toolkit.fluxcd.io/revision`) or
// with `event.toolkit.fluxcd.io/`, with the prefix removed. Upstream also drops the
// group-prefixed `checksum` and `digest` keys (artifact internals, not for humans).
func CleanupMetadata(ev *eventv1.Event) {
	if len(ev.Metadata) == 0 {
		ev.Metadata = nil
		return
	}
	group := schema.FromAPIVersionAndKind(ev.InvolvedObject.APIVersion, ev.InvolvedObject.Kind).Group
	groupPrefix := group + "/"
	out := make(map[string]string, len(ev.Metadata))
	for k, v := range ev.Metadata {
		switch {
		case group != "" && strings.HasPrefix(k, groupPrefix):
			key := strings.TrimPrefix(k, groupPrefix)
			if key == eventv1.MetaChecksumKey || key == eventv1.MetaDigestKey || key == "" {
				continue
			}
			out[key] = v
		case strings.HasPrefix(k, eventGroupPrefix):
			if key := strings.TrimPrefix(k, eventGroupPrefix); key != "" {
				out[key] = v
			}
		}
	}
	if len(out) == 0 {
		out = nil
	}
	ev.Metadata = out
}

// EventKey identifies an event for duplicate suppression: the involved object (kind,
// namespace, name), the message, the reason, and the `revision` and `token` metadata (after
// CleanupMetadata), so a new revision or a new emitter token is never suppressed.
func EventKey(ev *eventv1.Event) string {
	h := sha256.New()
	for _, part := range []string{
		ev.InvolvedObject.Kind, ev.InvolvedObject.Namespace, ev.InvolvedObject.Name,
		ev.Message, ev.Reason,
		ev.Metadata[eventv1.MetaRevisionKey], ev.Metadata[eventv1.MetaTokenKey],
	} {
		// Length-prefixed, so ("a/b","c") and ("a","b/c") differ.
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}
