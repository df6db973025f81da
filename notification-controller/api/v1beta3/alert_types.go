package v1beta3

import (
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AlertKind is the kind name of the Alert API.
const AlertKind = "Alert"

// Values of spec.eventSeverity.
const (
	// EventSeverityInfo forwards every event, informational or error.
	// This is the default.
	EventSeverityInfo string = "info"

	// EventSeverityError forwards error events only.
	EventSeverityError string = "error"
)

// AlertSpec is an alerting rule: which events, from which objects, are sent
// to which Provider.
type AlertSpec struct {
	// ProviderRef names the Provider, in the namespace of the Alert, that
	// receives the matching events.
	// +required
	ProviderRef meta.LocalObjectReference `json:"providerRef"`

	// EventSeverity is the lowest severity forwarded: 'info' forwards every
	// event, 'error' only errors. Defaults to 'info'.
	// +kubebuilder:validation:Enum=info;error
	// +kubebuilder:default:=info
	// +optional
	EventSeverity string `json:"eventSeverity,omitempty"`

	// EventSources selects the objects, by kind and name or labels, whose
	// events this Alert forwards.
	// +required
	EventSources []CrossNamespaceObjectReference `json:"eventSources"`

	// InclusionList holds Go regular expressions; when set, only events
	// whose message matches at least one of them are forwarded.
	// +optional
	InclusionList []string `json:"inclusionList,omitempty"`

	// EventMetadata is added to the metadata of every forwarded event,
	// giving the receiver more context. A key the emitting controller
	// already set is kept as it was, and the conflict is logged.
	// +optional
	EventMetadata map[string]string `json:"eventMetadata,omitempty"`

	// ExclusionList holds Go regular expressions; events whose message
	// matches any of them are dropped.
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`

	// Summary is a short text about the impact and the affected cluster
	// added to forwarded events.
	// Deprecated: use EventMetadata instead.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Summary string `json:"summary,omitempty"`

	// Suspend makes the controller stop forwarding events for this Alert.
	// Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Alert routes events from selected Flux objects to a Provider. It has no
// status: the API server validates it and the controller reads it when
// events arrive.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories={all,fluxcd,fluxcd-notifications}
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type Alert struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the alerting rule.
	Spec AlertSpec `json:"spec,omitempty"`
}

// AlertList is a list of Alert objects.
// +kubebuilder:object:root=true
type AlertList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Alerts of the list.
	Items []Alert `json:"items"`
}

// IsSuspended reports whether spec.suspend is true.
func (in *Alert) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetEventSeverity returns spec.eventSeverity, or EventSeverityInfo when it
// is unset.
func (in *Alert) GetEventSeverity() string {
	if in.Spec.EventSeverity == "" {
		return EventSeverityInfo
	}
	return in.Spec.EventSeverity
}
