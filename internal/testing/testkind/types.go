// Package testkind is a small Flux-style kind, TestObject (testing.gotk.dev/v1), for tests of
// the SDK itself: it has what the reconcile engine needs (conditions, observedGeneration,
// interval, suspend, reconcile requests) and an artifact, like a source. Its CRD is
// generated into crd/ and installed by testenv with the Flux CRDs.
//
// +kubebuilder:object:generate=true
// +groupName=testing.gotk.dev
// +versionName=v1
package testkind

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of TestObject.
var GroupVersion = schema.GroupVersion{Group: "testing.gotk.dev", Version: "v1"}

// Kind is TestObject's kind.
const Kind = "TestObject"

// AddToScheme registers TestObject with a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &TestObject{}, &TestObjectList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// TestObjectSpec is what a test asks of the object.
type TestObjectSpec struct {
	// Interval between reconciles.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval metav1.Duration `json:"interval,omitempty"`
	// Suspend stops reconciles.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// URL is free text for tests (e.g. a source address).
	// +optional
	URL string `json:"url,omitempty"`
}

// TestObjectStatus is what the engine and the tests record.
type TestObjectStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// TestObject is a Flux-style object for SDK tests.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type TestObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TestObjectSpec   `json:"spec,omitempty"`
	Status TestObjectStatus `json:"status,omitempty"`
}

// TestObjectList is a list of TestObjects.
//
// +kubebuilder:object:root=true
type TestObjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TestObject `json:"items"`
}

func (in *TestObject) GetConditions() []metav1.Condition  { return in.Status.Conditions }
func (in *TestObject) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }
func (in *TestObject) GetObservedGeneration() int64       { return in.Status.ObservedGeneration }
func (in *TestObject) SetObservedGeneration(g int64)      { in.Status.ObservedGeneration = g }
func (in *TestObject) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}
func (in *TestObject) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}
func (in *TestObject) IsSuspended() bool           { return in.Spec.Suspend }
func (in *TestObject) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// GetRequeueAfter is the interval (a minute when unset).
func (in *TestObject) GetRequeueAfter() time.Duration {
	if in.Spec.Interval.Duration <= 0 {
		return time.Minute
	}
	return in.Spec.Interval.Duration
}
