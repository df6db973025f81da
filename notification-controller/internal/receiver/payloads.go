package receiver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ParseJSONObject decodes a JSON object (the `req` of resource filters).
func ParseJSONObject(body []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, errors.New("the payload is not a JSON object")
	}
	return m, nil
}

// DockerHubPayload is the part of a Docker Hub webhook the receiver relies on.
type DockerHubPayload struct {
	PushData struct {
		Tag string `json:"tag"`
	} `json:"push_data"`
	Repository struct {
		RepoName string `json:"repo_name"`
		RepoURL  string `json:"repo_url"`
	} `json:"repository"`
}

// ParseDockerHub requires a push of a tag to a named repository.
func ParseDockerHub(body []byte) (*DockerHubPayload, error) {
	p := &DockerHubPayload{}
	if err := json.Unmarshal(body, p); err != nil {
		return nil, errors.New("the payload is not a Docker Hub webhook")
	}
	if p.Repository.RepoName == "" || p.PushData.Tag == "" {
		return nil, errors.New("the Docker Hub payload has no repository.repo_name or push_data.tag")
	}
	return p, nil
}

// QuayPayload is Quay's Repository Push notification.
type QuayPayload struct {
	DockerURL   string   `json:"docker_url"`
	UpdatedTags []string `json:"updated_tags"`
}

// ParseQuay requires a Repository Push notification (the only one the receiver supports).
func ParseQuay(body []byte) (*QuayPayload, error) {
	p := &QuayPayload{}
	if err := json.Unmarshal(body, p); err != nil {
		return nil, errors.New("the payload is not a Quay notification")
	}
	if p.DockerURL == "" || p.UpdatedTags == nil {
		return nil, errors.New("the Quay payload is not a Repository Push notification (docker_url, updated_tags)")
	}
	return p, nil
}

// NexusPayload is a Nexus Repository Manager 3 repository webhook.
type NexusPayload struct {
	Action         string `json:"action"`
	RepositoryName string `json:"repositoryName"`
}

// ParseNexus requires an action on a named repository.
func ParseNexus(body []byte) (*NexusPayload, error) {
	p := &NexusPayload{}
	if err := json.Unmarshal(body, p); err != nil {
		return nil, errors.New("the payload is not a Nexus webhook")
	}
	if p.Action == "" || p.RepositoryName == "" {
		return nil, errors.New("the Nexus payload has no action or repositoryName")
	}
	return p, nil
}

// ACRPayload is an Azure Container Registry webhook.
type ACRPayload struct {
	Action string `json:"action"`
	Target struct {
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
	} `json:"target"`
}

// ParseACR requires an action on a target repository.
func ParseACR(body []byte) (*ACRPayload, error) {
	p := &ACRPayload{}
	if err := json.Unmarshal(body, p); err != nil {
		return nil, errors.New("the payload is not an ACR webhook")
	}
	if p.Action == "" || p.Target.Repository == "" {
		return nil, errors.New("the ACR payload has no action or target.repository")
	}
	return p, nil
}

// GCRPush is a Google Pub/Sub push message carrying a Container Registry notification.
type GCRPush struct {
	Message struct {
		Data      string `json:"data"`
		MessageID string `json:"messageId"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

// GCRNotification is the decoded message data.
type GCRNotification struct {
	Action string `json:"action"`
	Digest string `json:"digest"`
	Tag    string `json:"tag"`
}

// ParseGCR decodes the push envelope and its base64 data.
func ParseGCR(body []byte) (*GCRNotification, error) {
	var push GCRPush
	if err := json.Unmarshal(body, &push); err != nil {
		return nil, errors.New("the payload is not a Pub/Sub push message")
	}
	raw, err := base64.StdEncoding.DecodeString(push.Message.Data)
	if err != nil || len(raw) == 0 {
		return nil, errors.New("message.data is not base64 of a notification")
	}
	n := &GCRNotification{}
	if err := json.Unmarshal(raw, n); err != nil || n.Action == "" {
		return nil, errors.New("message.data is not a Container Registry notification")
	}
	return n, nil
}

// CDEvent is the context every CDEvent carries.
type CDEvent struct {
	Context struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		Source    string `json:"source"`
		SpecVer   string `json:"specversion"`
		Timestamp string `json:"timestamp"`
	} `json:"context"`
	Subject map[string]any `json:"subject"`
}

// ParseCDEvent requires a CDEvent (a `dev.cdevents.*` type, an id, a source and a subject).
func ParseCDEvent(body []byte) (*CDEvent, error) {
	e := &CDEvent{}
	if err := json.Unmarshal(body, e); err != nil {
		return nil, errors.New("the payload is not a CDEvent")
	}
	if !strings.HasPrefix(e.Context.Type, "dev.cdevents.") || e.Context.ID == "" || e.Context.Source == "" || e.Subject == nil {
		return nil, errors.New("the payload is not a CDEvent: context.type (dev.cdevents.*), context.id, context.source and subject are required")
	}
	return e, nil
}

// validateCDEvents filters on the event type (the Ce-Type header, or the payload's
// context.type); with spec.events set, another type is refused.
func validateCDEvents(r *http.Request, body []byte, events []string) Decision {
	e, err := ParseCDEvent(body)
	if err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	typ := r.Header.Get("Ce-Type")
	if typ == "" {
		typ = e.Context.Type
	}
	if typ != e.Context.Type {
		return refuse(http.StatusBadRequest, "Ce-Type %q does not match the payload's context.type", truncate(typ, 64))
	}
	if !eventAllowed(typ, events) {
		return Decision{Status: http.StatusBadRequest, Message: fmt.Sprintf("CDEvent type %q is not in spec.events", truncate(typ, 64)), Event: typ}
	}
	return Decision{Status: http.StatusOK, Trigger: true, Event: typ}
}
