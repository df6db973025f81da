// Package receiver validates incoming webhooks for Receiver objects and decides which
// objects to reconcile. Validate checks one request against one Receiver (signature, token
// or OIDC identity, event type, payload shape) and returns a Decision: the HTTP status to
// answer and whether to trigger. SelectTargets resolves spec.resources (name, `*`,
// matchLabels, per-resource filter and spec.resourceFilter CEL) into the objects whose
// `reconcile.fluxcd.io/requestedAt` annotation the caller sets.
package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

// DefaultMaxBodyBytes bounds a webhook body.
const DefaultMaxBodyBytes = 8 << 20

// WebhookPath is the path a Receiver is served on: `/hook/` + hex(sha256(token+name+namespace)).
func WebhookPath(token, name, namespace string) string {
	r := apiv1.Receiver{}
	r.Name, r.Namespace = name, namespace
	return r.GetWebhookPath(token)
}

// Config is what validating a request for one Receiver needs besides the request.
type Config struct {
	Receiver *apiv1.Receiver
	// Token is the `token` key of the Receiver's secretRef.
	Token string
	// GCR configures the `gcr` type's OIDC token check.
	GCR GCRConfig
}

// Decision is the outcome of Validate.
type Decision struct {
	// Status is the HTTP status to answer with; Message its body.
	Status  int
	Message string
	// Trigger is true when the listed resources are to be reconciled.
	Trigger bool
	// Payload is the request body, for SelectTargets' `req` variable.
	Payload []byte
	// Event is the webhook's event type when the type carries one (GitHub's X-GitHub-Event, ...).
	Event string
}

func refuse(status int, format string, args ...any) Decision {
	return Decision{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Options configure a Validator.
type Options struct {
	// MaxBodyBytes bounds a request body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// HTTPClient fetches JWKS documents (http.DefaultClient when nil).
	HTTPClient *http.Client
}

// Validator validates webhook requests; it caches the JWKS key sets of the gcr type. Safe for
// concurrent use.
type Validator struct {
	maxBody int64
	client  *http.Client
	mu      sync.Mutex
	keySets map[string]keySet
}

// NewValidator returns a Validator.
func NewValidator(o Options) *Validator {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	return &Validator{maxBody: o.MaxBodyBytes, client: o.HTTPClient, keySets: map[string]keySet{}}
}

// Validate checks r against cfg.Receiver. Answers: 200 trigger (or 200 without trigger for
// pings and ignored notifications), 400 malformed payload or an event type not in
// spec.events, 401 a wrong or missing signature, token or identity, 413 body too large,
// 503 a suspended Receiver.
func (v *Validator) Validate(ctx context.Context, r *http.Request, cfg Config) Decision {
	rcv := cfg.Receiver
	if rcv == nil {
		return refuse(http.StatusInternalServerError, "no Receiver")
	}
	if rcv.Spec.Suspend {
		return refuse(http.StatusServiceUnavailable, "Receiver %s/%s is suspended", rcv.Namespace, rcv.Name)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, v.maxBody+1))
	if err != nil {
		return refuse(http.StatusBadRequest, "reading the request body: %v", err)
	}
	if int64(len(body)) > v.maxBody {
		return refuse(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", v.maxBody)
	}
	var d Decision
	switch rcv.Spec.Type {
	case apiv1.GenericReceiver:
		d = Decision{Status: http.StatusOK, Trigger: true}
	case apiv1.GenericHMACReceiver:
		d = validateGenericHMAC(r, body, cfg.Token)
	case apiv1.GitHubReceiver:
		d = validateGitHub(r, body, cfg.Token, rcv.Spec.Events)
	case apiv1.GitLabReceiver:
		d = validateGitLab(r, cfg.Token, rcv.Spec.Events)
	case apiv1.BitbucketReceiver:
		d = validateBitbucket(r, body, cfg.Token, rcv.Spec.Events)
	case apiv1.HarborReceiver:
		d = validateHarbor(r, cfg.Token)
	case apiv1.DockerHubReceiver:
		d = payloadDecision(ParseDockerHub(body))
	case apiv1.QuayReceiver:
		d = payloadDecision(ParseQuay(body))
	case apiv1.NexusReceiver:
		d = validateNexus(r, body, cfg.Token)
	case apiv1.ACRReceiver:
		d = payloadDecision(ParseACR(body))
	case apiv1.CDEventsReceiver:
		d = validateCDEvents(r, body, rcv.Spec.Events)
	case apiv1.GCRReceiver:
		d = v.validateGCR(ctx, r, body, cfg.GCR)
	default:
		d = refuse(http.StatusBadRequest, "Receiver type %q is not supported", rcv.Spec.Type)
	}
	if d.Trigger {
		d.Payload = body
	}
	return d
}

// payloadDecision turns a payload parser's result into a Decision.
func payloadDecision(_ any, err error) Decision {
	if err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	return Decision{Status: http.StatusOK, Trigger: true}
}

// eventAllowed reports whether event is in events (case-insensitively); an empty list
// allows every event.
func eventAllowed(event string, events []string) bool {
	if len(events) == 0 {
		return true
	}
	for _, e := range events {
		if strings.EqualFold(e, event) {
			return true
		}
	}
	return false
}

var errNoToken = errors.New("the Receiver's Secret holds no token")
