package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/acl"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageRepositoryKind is the kind name of ImageRepository objects.
const ImageRepositoryKind = "ImageRepository"

// Registry authentication providers accepted in ImageRepositorySpec.Provider.
const (
	// GenericProvider authenticates with the Secrets named in the spec (or
	// anonymously); it is the default.
	GenericProvider string = "generic"
	// AWSProvider obtains registry credentials for Amazon ECR from the
	// controller's AWS identity.
	AWSProvider string = "aws"
	// AzureProvider obtains registry credentials for Azure Container Registry
	// from the controller's Azure identity.
	AzureProvider string = "azure"
	// GCPProvider obtains registry credentials for Google Artifact Registry
	// and GCR from the controller's Google Cloud identity.
	GCPProvider string = "gcp"
)

// DefaultExclusionList is the list of tag patterns excluded from a scan
// when spec.exclusionList is not given: cosign signature tags.
var DefaultExclusionList = []string{`^.*\.sig$`}

// ImageRepositorySpec says which container image repository to scan, how
// often, and with which credentials.
type ImageRepositorySpec struct {
	// Image is the name of the image repository to scan, without a tag or
	// digest, e.g. `ghcr.io/fluxcd/flux-cli` or `alpine` (which means
	// `docker.io/library/alpine`).
	// +required
	Image string `json:"image"`

	// Interval is how long to wait between two scans of the repository,
	// as a Go duration (e.g. `5m`).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout bounds how long a single scan may take. When unset, the value
	// of Interval is used.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a Secret in the same namespace holding registry
	// credentials in the `kubernetes.io/dockerconfigjson` format, as created
	// by `kubectl create secret docker-registry`.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ProxySecretRef names a Secret in the same namespace with the proxy
	// settings (`address`, and optionally `username` and `password`) used to
	// reach the registry.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// ServiceAccountName names a ServiceAccount in the same namespace whose
	// image pull secrets are used to authenticate to the registry.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret (type `Opaque` or `kubernetes.io/tls`)
	// in the same namespace with TLS material for the registry connection:
	// `ca.crt` to trust a private CA, and/or `tls.crt` plus `tls.key` for
	// client certificate authentication. The older `caFile`, `certFile` and
	// `keyFile` keys are deprecated.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// AccessFrom lists the namespaces (by label selector) whose ImagePolicies
	// may refer to this ImageRepository across namespaces. When unset, only
	// policies in the same namespace may use it.
	// +optional
	AccessFrom *acl.AccessFrom `json:"accessFrom,omitempty"`

	// Suspend stops future scans while true; a scan already running is not
	// interrupted. Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ExclusionList holds regular expressions; tags matching any of them are
	// left out of the scan result. Defaults to excluding cosign signature
	// tags (`^.*\.sig$`).
	// +kubebuilder:default:={"^.*\\.sig$"}
	// +kubebuilder:validation:MaxItems=25
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`

	// Provider selects how registry credentials are obtained: `generic`
	// (the Secrets above, the default), or the workload identity of the
	// controller on `aws`, `azure` or `gcp`.
	// +kubebuilder:validation:Enum=generic;aws;azure;gcp
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`

	// Insecure allows talking to the registry over plain HTTP instead of
	// HTTPS. Defaults to false.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
}

// ScanResult summarises the outcome of the most recent successful scan.
type ScanResult struct {
	// TagCount is how many tags the scan kept after exclusions.
	// +required
	TagCount int `json:"tagCount"`

	// ScanTime is when the scan finished.
	// +optional
	ScanTime metav1.Time `json:"scanTime,omitempty"`

	// LatestTags is a short sample of the scanned tags: the first ten in
	// descending lexical order.
	// +optional
	LatestTags []string `json:"latestTags,omitempty"`

	// Revision is a digest of the whole list of scanned tags; it changes
	// whenever the set of tags changes.
	// +optional
	Revision string `json:"revision,omitempty"`
}

// ImageRepositoryStatus is what the controller last observed about the
// image repository.
type ImageRepositoryStatus struct {
	// ObservedGeneration is the metadata.generation the controller last
	// reconciled; -1 until the first reconciliation.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions hold the latest observations of the object's state
	// (Ready, Reconciling, Stalled).
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// CanonicalImageName is spec.image with all implied parts spelled out,
	// e.g. `docker.io/library/alpine` for `alpine`.
	// +optional
	CanonicalImageName string `json:"canonicalImageName,omitempty"`

	// LastScanResult describes the most recent successful scan.
	// +optional
	LastScanResult *ScanResult `json:"lastScanResult,omitempty"`

	// ObservedExclusionList is the exclusion list that was in effect for
	// the scan recorded in LastScanResult.
	// +optional
	ObservedExclusionList []string `json:"observedExclusionList,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// ImageRepository periodically scans a container image repository and
// keeps the list of its tags for ImagePolicies to choose from.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=imgrepo;imagerepo,categories=all;fluxcd;fluxcd-images
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image`
// +kubebuilder:printcolumn:name="Tags",type=string,JSONPath=`.status.lastScanResult.tagCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Last scan",type=string,JSONPath=`.status.lastScanResult.scanTime`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImageRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired scanning behaviour.
	Spec ImageRepositorySpec `json:"spec,omitempty"`

	// Status is the observed state, written by the controller.
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImageRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions of the ImageRepository.
func (in *ImageRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the ImageRepository.
func (in *ImageRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *ImageRepository) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *ImageRepository) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *ImageRepository) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *ImageRepository) SetLastHandledReconcileRequest(token string) {
	in.Status.LastHandledReconcileAt = token
}

// GetRequeueAfter returns the scan interval (spec.interval).
func (in *ImageRepository) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout when set, and otherwise the scan
// interval, which is the documented default.
func (in *ImageRepository) GetTimeout() time.Duration {
	if in.Spec.Timeout != nil && in.Spec.Timeout.Duration > 0 {
		return in.Spec.Timeout.Duration
	}
	return in.Spec.Interval.Duration
}

// IsSuspended reports whether spec.suspend is true.
func (in *ImageRepository) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetProvider returns spec.provider, or GenericProvider when it is empty.
func (in *ImageRepository) GetProvider() string {
	if in.Spec.Provider == "" {
		return GenericProvider
	}
	return in.Spec.Provider
}

// GetExclusionList returns spec.exclusionList, or DefaultExclusionList when
// the field is absent (nil). An explicitly empty list excludes nothing.
func (in *ImageRepository) GetExclusionList() []string {
	if in.Spec.ExclusionList == nil {
		return append([]string(nil), DefaultExclusionList...)
	}
	return in.Spec.ExclusionList
}

// ImageRepositoryList is a list of ImageRepository objects.
// +kubebuilder:object:root=true
type ImageRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the ImageRepository objects in the list.
	Items []ImageRepository `json:"items"`
}
