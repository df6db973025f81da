package setters

import (
	"encoding/json"
	"strings"
)

// MarkerKey is the key of the setter comment's JSON object.
const MarkerKey = "$imagepolicy"

// Policy is the latest image of one ImagePolicy: what a marker naming it is set from.
type Policy struct {
	Namespace, Name string
	// Image is the image name (ImagePolicy .status.latestRef.name).
	Image string
	Tag   string
	// Digest is set when the policy reflects digests ("sha256:...").
	Digest string
}

// Key is "namespace:name", the policy part of a marker.
func (p Policy) Key() string { return p.Namespace + ":" + p.Name }

// Ref is the full reference the plain marker sets: name:tag, or name:tag@digest.
func (p Policy) Ref() string {
	s := p.Image + ":" + p.Tag
	if p.Digest != "" {
		s += "@" + p.Digest
	}
	return s
}

// marker is a parsed setter comment.
type marker struct {
	setter string // the whole marker value, "ns:name[:field]"
	policy string // "ns:name"
	field  string // "", "name", "tag" or "digest"
}

// parseMarker reads a line comment such as `# {"$imagepolicy": "ns:app:tag"}`. ok is false
// for any other comment.
func parseMarker(comment string) (marker, bool) {
	text := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(comment), "#"))
	if !strings.HasPrefix(text, "{") || !strings.Contains(text, MarkerKey) {
		return marker{}, false
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		return marker{}, false
	}
	value, ok := obj[MarkerKey].(string)
	if !ok {
		return marker{}, false
	}
	parts := strings.Split(value, ":")
	m := marker{setter: value}
	switch len(parts) {
	case 2:
	case 3:
		switch parts[2] {
		case "name", "tag", "digest":
			m.field = parts[2]
		default:
			return marker{}, false
		}
	default:
		return marker{}, false
	}
	if parts[0] == "" || parts[1] == "" {
		return marker{}, false
	}
	m.policy = parts[0] + ":" + parts[1]
	return m, true
}

// value is what the marker sets from p; ok is false when p has nothing for it (a :digest
// marker for a policy without digest reflection).
func (m marker) value(p Policy) (string, bool) {
	switch m.field {
	case "name":
		return p.Image, p.Image != ""
	case "tag":
		return p.Tag, p.Tag != ""
	case "digest":
		return p.Digest, p.Digest != ""
	}
	return p.Ref(), p.Image != "" && p.Tag != ""
}
