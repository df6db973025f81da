package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/acl"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HelmRepositoryKind is the kind name of HelmRepository objects.
const HelmRepositoryKind = "HelmRepository"

// Values of HelmRepository spec.type.
const (
	// HelmRepositoryTypeDefault is a classic Helm repository serving an
	// index.yaml over HTTP(S). This is the behaviour when spec.type is unset.
	HelmRepositoryTypeDefault string = "default"
	// HelmRepositoryTypeOCI is a Helm repository stored in an OCI registry;
	// the URL must start with "oci://".
	HelmRepositoryTypeOCI string = "oci"
)

// HelmRepositorySpec describes the Helm repository whose index is turned into
// an Artifact (or, for OCI repositories, which registry HelmCharts pull from).
type HelmRepositorySpec struct {
	// URL of the Helm repository, with at least a scheme (http, https or
	// oci) and a host.
	// +kubebuilder:validation:Pattern="^(http|https|oci)://.*$"
	// +required
	URL string `json:"url"`

	// SecretRef names a Secret in the same namespace holding the credentials
	// for the repository: 'username' and 'password' for basic auth. TLS keys
	// ('certFile', 'keyFile', 'caFile') are still read but deprecated in
	// favour of CertSecretRef.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret (type Opaque or kubernetes.io/tls) in the
	// same namespace holding TLS material: 'tls.crt' and 'tls.key' for a
	// client certificate and/or 'ca.crt' for a custom certificate authority.
	// Takes precedence over TLS keys in SecretRef.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// PassCredentials sends the SecretRef credentials also to hosts other
	// than the one of URL, as needed when the index points to charts on
	// another host. Off by default, as it can leak credentials.
	// +optional
	PassCredentials bool `json:"passCredentials,omitempty"`

	// Interval is how often the repository index is downloaded again. The
	// controller may add a little jitter to spread the load. Not needed for
	// OCI repositories, which produce no Artifact.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval metav1.Duration `json:"interval,omitzero"`

	// Insecure allows plain HTTP connections to the registry. Only used when
	// spec.type is 'oci'.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Timeout bounds the index download, and for OCI repositories the chart
	// pulls done by HelmCharts that use this repository. Defaults to 60s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Suspend stops the reconciliation of this HelmRepository while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// AccessFrom is a provisional access control list for references from
	// other namespaces. It is not enforced yet.
	// +optional
	AccessFrom *acl.AccessFrom `json:"accessFrom,omitempty"`

	// Type is 'default' for a classic index.yaml repository or 'oci' for a
	// repository in an OCI registry (URL must then start with "oci://").
	// Treated as 'default' when unset.
	// +kubebuilder:validation:Enum=default;oci
	// +optional
	Type string `json:"type,omitempty"`

	// Provider selects how to authenticate to an OCI registry: 'generic',
	// 'aws', 'azure' or 'gcp'. Only used when spec.type is 'oci'. Defaults to
	// 'generic'.
	// +kubebuilder:validation:Enum=generic;aws;azure;gcp
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`
}

// HelmRepositoryStatus is the observed state of a HelmRepository.
type HelmRepositoryStatus struct {
	// ObservedGeneration is the metadata.generation of the HelmRepository
	// the controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the current state of the HelmRepository.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is a stable address at which the latest index Artifact can be
	// downloaded. Prefer the exact data in Artifact where possible.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the output of the last successful reconciliation.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// HelmRepository watches a Helm chart repository and publishes its index as
// an Artifact.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=helmrepo,categories={all,fluxcd,fluxcd-sources}
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
type HelmRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the HelmRepository.
	Spec HelmRepositorySpec `json:"spec,omitempty"`

	// Status is the observed state of the HelmRepository.
	// +kubebuilder:default={"observedGeneration":-1}
	Status HelmRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions of the object.
func (in *HelmRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the object.
func (in *HelmRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *HelmRepository) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *HelmRepository) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *HelmRepository) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *HelmRepository) SetLastHandledReconcileRequest(token string) {
	in.Status.SetLastHandledReconcileRequest(token)
}

// GetRequeueAfter returns spec.interval (zero when unset).
func (in *HelmRepository) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or DefaultTimeout (60s) when unset.
func (in *HelmRepository) GetTimeout() time.Duration {
	return timeoutOrDefault(in.Spec.Timeout)
}

// IsSuspended returns spec.suspend.
func (in *HelmRepository) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetArtifact returns status.artifact, nil when no Artifact exists yet.
func (in *HelmRepository) GetArtifact() *meta.Artifact {
	return in.Status.Artifact
}

// GetType returns spec.type, defaulting to HelmRepositoryTypeDefault.
func (in *HelmRepository) GetType() string {
	if in.Spec.Type == "" {
		return HelmRepositoryTypeDefault
	}
	return in.Spec.Type
}

// IsOCI reports whether the repository lives in an OCI registry.
func (in *HelmRepository) IsOCI() bool {
	return in.Spec.Type == HelmRepositoryTypeOCI
}

// GetProvider returns spec.provider, defaulting to GenericOCIProvider.
func (in *HelmRepository) GetProvider() string {
	if in.Spec.Provider == "" {
		return GenericOCIProvider
	}
	return in.Spec.Provider
}

// HelmRepositoryList is a list of HelmRepository objects.
// +kubebuilder:object:root=true
type HelmRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the HelmRepository objects of the list.
	Items []HelmRepository `json:"items"`
}
