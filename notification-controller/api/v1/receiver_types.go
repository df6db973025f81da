package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReceiverKind is the kind name of the Receiver API.
const ReceiverKind = "Receiver"

// ReceiverWebhookPath is the prefix of every Receiver webhook path.
const ReceiverWebhookPath = "/hook/"

// DefaultReceiverInterval is the reconcile interval of a Receiver whose
// spec.interval is unset; it matches the API server default.
const DefaultReceiverInterval = 10 * time.Minute

// Values of spec.type: the webhook senders a Receiver understands.
const (
	// GenericReceiver accepts any request that knows the webhook path.
	GenericReceiver string = "generic"
	// GenericHMACReceiver checks an HMAC signature of the body made with
	// the token.
	GenericHMACReceiver string = "generic-hmac"
	// GenericOIDCReceiver authenticates requests with an OIDC bearer token
	// checked against spec.oidcProviders.
	GenericOIDCReceiver string = "generic-oidc"
	// GitHubReceiver handles GitHub webhooks.
	GitHubReceiver string = "github"
	// GitLabReceiver handles GitLab webhooks.
	GitLabReceiver string = "gitlab"
	// BitbucketReceiver handles Bitbucket Server webhooks.
	BitbucketReceiver string = "bitbucket"
	// HarborReceiver handles Harbor registry webhooks.
	HarborReceiver string = "harbor"
	// DockerHubReceiver handles Docker Hub webhooks.
	DockerHubReceiver string = "dockerhub"
	// QuayReceiver handles Quay webhooks.
	QuayReceiver string = "quay"
	// GCRReceiver handles Google Artifact/Container Registry notifications
	// pushed through Pub/Sub.
	GCRReceiver string = "gcr"
	// NexusReceiver handles Sonatype Nexus webhooks.
	NexusReceiver string = "nexus"
	// ACRReceiver handles Azure Container Registry webhooks.
	ACRReceiver string = "acr"
	// CDEventsReceiver handles CDEvents payloads.
	CDEventsReceiver string = "cdevents"
)

// ReceiverSpec is the desired state of a Receiver: which webhook sender it
// accepts, how requests are authenticated and which objects it asks to
// reconcile.
// +kubebuilder:validation:XValidation:rule="self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)",message="generic-oidc receivers must define at least one oidcProvider"
// +kubebuilder:validation:XValidation:rule="self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0",message="oidcProviders can only be set when type is generic-oidc"
// +kubebuilder:validation:XValidation:rule="self.type != 'generic-oidc' || !has(self.secretRef)",message="secretRef cannot be set when type is generic-oidc"
// +kubebuilder:validation:XValidation:rule="self.type == 'generic-oidc' || has(self.secretRef)",message="secretRef is required when type is not generic-oidc"
type ReceiverSpec struct {
	// Type is the kind of webhook sender; it decides how requests are
	// authenticated and how their payload is read.
	// +kubebuilder:validation:Enum=generic;generic-hmac;generic-oidc;github;gitlab;bitbucket;harbor;dockerhub;quay;gcr;nexus;acr;cdevents
	// +required
	Type string `json:"type"`

	// Interval is how often the Receiver is reconciled to pick up changes
	// of the referenced Secret. Defaults to 10m.
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Events restricts the event types handled, e.g. 'push' for GitHub or
	// 'Push Hook' for GitLab. Empty means every event.
	// +optional
	Events []string `json:"events,omitempty"`

	// Resources selects the objects to reconcile when a valid request
	// arrives.
	// +required
	Resources []ReceiverResource `json:"resources"`

	// ResourceFilter is a CEL expression returning a boolean, evaluated for
	// every object selected by Resources when a webhook arrives; objects for
	// which it is false are not reconciled. The expression sees the object
	// metadata as 'res', the request body as 'req' and, for 'generic-oidc'
	// receivers, the verified token claims as 'claims'. An expression that
	// does not compile or return a boolean makes the Receiver fail
	// terminally.
	// +optional
	ResourceFilter string `json:"resourceFilter,omitempty"`

	// SecretRef names a Secret with a 'token' key used to authenticate
	// requests and to derive the webhook path. GCR receivers also need
	// 'email' (the Pub/Sub push subscription service account) and
	// 'audience' keys. Required for every type except 'generic-oidc', for
	// which it must not be set.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// OIDCProviders are the issuers trusted by a 'generic-oidc' Receiver.
	// The provider whose IssuerURL equals the token's 'iss' claim checks its
	// signature, expiry and audience and then runs its CEL validations.
	// Only allowed, and then required, for type 'generic-oidc'.
	// +listType=map
	// +listMapKey=issuerURL
	// +optional
	OIDCProviders []OIDCProvider `json:"oidcProviders,omitempty"`

	// Suspend makes the Receiver ignore incoming requests. Defaults to
	// false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ReceiverStatus is the observed state of a Receiver.
type ReceiverStatus struct {
	meta.ReconcileRequestStatus `json:",inline"`

	// Conditions are the Ready, Reconciling and Stalled conditions of the
	// Receiver.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// WebhookPath is the path under which the Receiver accepts requests:
	// '/hook/' followed by the hex SHA-256 of token+name+namespace.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`

	// ObservedGeneration is the metadata.generation last handled by the
	// controller; -1 until the first reconciliation.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// Receiver exposes a webhook endpoint; authenticated requests to it make
// the controller request a reconciliation of the selected objects.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories={all,fluxcd,fluxcd-notifications}
// +kubebuilder:subresource:status
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
type Receiver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the Receiver.
	Spec ReceiverSpec `json:"spec,omitempty"`

	// Status is the observed state of the Receiver.
	// +kubebuilder:default={"observedGeneration":-1}
	Status ReceiverStatus `json:"status,omitempty"`
}

// ReceiverList is a list of Receiver objects.
// +kubebuilder:object:root=true
type ReceiverList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Receivers of the list.
	Items []Receiver `json:"items"`
}

// GetConditions returns the status conditions of the Receiver.
func (in *Receiver) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the Receiver.
func (in *Receiver) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *Receiver) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *Receiver) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt, the
// last reconcile.fluxcd.io/requestedAt value the controller acted on.
func (in *Receiver) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *Receiver) SetLastHandledReconcileRequest(token string) {
	in.Status.SetLastHandledReconcileRequest(token)
}

// GetRequeueAfter returns spec.interval, or DefaultReceiverInterval when
// it is unset.
func (in *Receiver) GetRequeueAfter() time.Duration {
	if in.Spec.Interval != nil {
		return in.Spec.Interval.Duration
	}
	return DefaultReceiverInterval
}

// IsSuspended reports whether spec.suspend is true.
func (in *Receiver) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetWebhookPath returns the webhook path of the Receiver for the given
// token: ReceiverWebhookPath followed by the lowercase hex SHA-256 digest
// of token+name+namespace.
func (in *Receiver) GetWebhookPath(token string) string {
	sum := sha256.Sum256([]byte(token + in.GetName() + in.GetNamespace()))
	return ReceiverWebhookPath + hex.EncodeToString(sum[:])
}
