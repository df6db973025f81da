// Package v1alpha1 is the API of the example ArtifactSummary kind: a third party's kind,
// reconciled with gotk's controller SDK, that summarises the artifact of a Flux source.
//
// +kubebuilder:object:generate=true
// +groupName=examples.gotk.dev
package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of ArtifactSummary.
var GroupVersion = schema.GroupVersion{Group: "examples.gotk.dev", Version: "v1alpha1"}

// Kind is ArtifactSummary's kind.
const Kind = "ArtifactSummary"

// AddToScheme registers the kind with a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &ArtifactSummary{}, &ArtifactSummaryList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// SourceReference names a Flux source (GitRepository, OCIRepository, Bucket, ...).
type SourceReference struct {
	// APIVersion of the source, e.g. source.toolkit.fluxcd.io/v1.
	// +required
	APIVersion string `json:"apiVersion"`
	// Kind of the source.
	// +required
	Kind string `json:"kind"`
	// Name of the source, in the summary's namespace.
	// +required
	Name string `json:"name"`
}

// ArtifactSummarySpec says which source to summarise and how often.
type ArtifactSummarySpec struct {
	// SourceRef is the source whose artifact is summarised.
	// +required
	SourceRef SourceReference `json:"sourceRef"`
	// Interval between reconciles.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`
	// Suspend stops reconciles.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ArtifactSummaryStatus is what the controller found.
type ArtifactSummaryStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastHandledReconcileAt is the last reconcile.fluxcd.io/requestedAt token handled.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
	// Revision is the source revision summarised.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Files is the number of regular files in the artifact.
	// +optional
	Files int `json:"files,omitempty"`
	// Bytes is their total size.
	// +optional
	Bytes int64 `json:"bytes,omitempty"`
}

// ArtifactSummary summarises the artifact of a Flux source.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Files",type="integer",JSONPath=".status.files"
type ArtifactSummary struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ArtifactSummarySpec   `json:"spec,omitempty"`
	Status ArtifactSummaryStatus `json:"status,omitempty"`
}

// ArtifactSummaryList is a list of ArtifactSummaries.
//
// +kubebuilder:object:root=true
type ArtifactSummaryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ArtifactSummary `json:"items"`
}

// The methods below are what gotk.dev/pkg/reconcile.Object asks of a kind.

func (in *ArtifactSummary) GetConditions() []metav1.Condition  { return in.Status.Conditions }
func (in *ArtifactSummary) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }
func (in *ArtifactSummary) GetObservedGeneration() int64       { return in.Status.ObservedGeneration }
func (in *ArtifactSummary) SetObservedGeneration(g int64)      { in.Status.ObservedGeneration = g }
func (in *ArtifactSummary) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}
func (in *ArtifactSummary) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}
func (in *ArtifactSummary) GetRequeueAfter() time.Duration { return in.Spec.Interval.Duration }
func (in *ArtifactSummary) IsSuspended() bool              { return in.Spec.Suspend }
