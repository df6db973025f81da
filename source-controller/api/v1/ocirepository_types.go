package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OCIRepositoryKind is the kind name of OCIRepository objects.
const OCIRepositoryKind = "OCIRepository"

// OCIRepositoryPrefix is the URL scheme prefix of OCI repository addresses.
const OCIRepositoryPrefix = "oci://"

// Layer operations accepted in spec.layerSelector.operation.
const (
	// OCILayerExtract extracts the selected (tar+gzip) layer and re-packs it
	// as the Artifact. This is the default.
	OCILayerExtract = "extract"
	// OCILayerCopy stores the compressed layer as-is as the Artifact.
	OCILayerCopy = "copy"
)

// Authentication providers accepted in OCIRepository and HelmRepository
// spec.provider.
const (
	// GenericOCIProvider authenticates with the credentials in spec.secretRef
	// or the service account's image pull secrets.
	GenericOCIProvider string = "generic"
	// AmazonOCIProvider authenticates against Amazon ECR.
	AmazonOCIProvider string = "aws"
	// GoogleOCIProvider authenticates against Google Artifact Registry.
	GoogleOCIProvider string = "gcp"
	// AzureOCIProvider authenticates against Azure Container Registry.
	AzureOCIProvider string = "azure"
)

// Media types of the OCI artifacts produced by `flux push artifact`.
const (
	// OCIArtifactConfigMediaType is the media type of the config blob of a
	// Flux OCI artifact.
	OCIArtifactConfigMediaType = "application/vnd.cncf.flux.config.v1+json"
	// OCIArtifactContentMediaType is the media type of the layer holding the
	// tar+gzip contents of a Flux OCI artifact.
	OCIArtifactContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
)

// OCI manifest annotation keys written on Flux OCI artifacts and copied to
// the Artifact metadata.
const (
	// OCISourceAnnotation holds the URL of the source the artifact was built
	// from, e.g. a Git repository address.
	OCISourceAnnotation = "org.opencontainers.image.source"
	// OCIRevisionAnnotation holds the revision of that source, e.g.
	// "main@sha1:<hex>".
	OCIRevisionAnnotation = "org.opencontainers.image.revision"
	// OCICreatedAnnotation holds the RFC 3339 creation time of the artifact.
	OCICreatedAnnotation = "org.opencontainers.image.created"
)

// OCIRepositorySpec describes the OCI artifact to pull and how to turn it
// into an Artifact.
type OCIRepositorySpec struct {
	// URL of the OCI repository holding the artifact, e.g.
	// oci://ghcr.io/org/manifests.
	// +kubebuilder:validation:Pattern="^oci://.*$"
	// +required
	URL string `json:"url"`

	// Reference selects the tag, semver range or digest to pull. The
	// 'latest' tag is used when unset.
	// +optional
	Reference *OCIRepositoryRef `json:"ref,omitempty"`

	// LayerSelector picks the layer of the artifact to use and how. The
	// first layer is extracted when unset.
	// +optional
	LayerSelector *OCILayerSelector `json:"layerSelector,omitempty"`

	// Provider selects how to authenticate to the registry: 'generic',
	// 'aws', 'azure' or 'gcp'. Defaults to 'generic'.
	// +kubebuilder:validation:Enum=generic;aws;azure;gcp
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`

	// SecretRef names a Secret of type kubernetes.io/dockerconfigjson in the
	// same namespace holding the registry credentials.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// Verify enables signature verification of the pulled artifact. Nothing
	// is verified when unset.
	// +optional
	Verify *OCIRepositoryVerification `json:"verify,omitempty"`

	// ServiceAccountName is a Kubernetes ServiceAccount in the same
	// namespace whose image pull secrets are used to authenticate.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret (type Opaque or kubernetes.io/tls) in the
	// same namespace holding TLS material for the registry connection:
	// 'tls.crt' and 'tls.key' for a client certificate and/or 'ca.crt' for a
	// custom certificate authority.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names a Secret in the same namespace holding the proxy
	// settings used to reach the registry.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval is how often the repository is checked for a new artifact.
	// The controller may add a little jitter to spread the load.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout bounds each registry operation such as a pull. Defaults to
	// 60s.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Ignore lists, in .gitignore syntax, the files to leave out of the
	// Artifact. It replaces the built-in default exclusions when set.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Insecure allows plain HTTP connections to the registry.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Suspend stops the reconciliation of this OCIRepository while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// OCIRepositoryRef selects the artifact version to pull. When several fields
// are set Digest wins over SemVer, which wins over Tag.
type OCIRepositoryRef struct {
	// Digest of the artifact to pull, e.g. 'sha256:<hex>'.
	// +optional
	Digest string `json:"digest,omitempty"`

	// SemVer is a semantic version range; the highest matching tag is
	// pulled.
	// +optional
	SemVer string `json:"semver,omitempty"`

	// SemverFilter is a regular expression the tags must match before the
	// SemVer range is applied.
	// +optional
	SemverFilter string `json:"semverFilter,omitempty"`

	// Tag to pull. Defaults to 'latest'.
	// +optional
	Tag string `json:"tag,omitempty"`
}

// OCILayerSelector chooses which layer of an OCI artifact becomes the
// Artifact, and how.
type OCILayerSelector struct {
	// MediaType selects the first layer with this media type. The first
	// layer of the artifact is used when empty.
	// +optional
	MediaType string `json:"mediaType,omitempty"`

	// Operation is 'extract' (unpack the compressed layer, the default) or
	// 'copy' (store the compressed layer unchanged).
	// +kubebuilder:validation:Enum=extract;copy
	// +optional
	Operation string `json:"operation,omitempty"`
}

// OCIRepositoryStatus is the observed state of an OCIRepository.
type OCIRepositoryStatus struct {
	// ObservedGeneration is the metadata.generation of the OCIRepository
	// the controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the current state of the OCIRepository.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is the address at which the latest Artifact can be downloaded.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the output of the last successful reconciliation.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is the spec.ignore value used for the current Artifact.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedLayerSelector is the spec.layerSelector value used for the
	// current Artifact.
	// +optional
	ObservedLayerSelector *OCILayerSelector `json:"observedLayerSelector,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// OCIRepository watches an OCI artifact in a container registry and
// publishes the selected layer as an Artifact.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=ocirepo,categories={all,fluxcd,fluxcd-sources}
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type OCIRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the OCIRepository.
	Spec OCIRepositorySpec `json:"spec,omitempty"`

	// Status is the observed state of the OCIRepository.
	// +kubebuilder:default={"observedGeneration":-1}
	Status OCIRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions of the object.
func (in *OCIRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the object.
func (in *OCIRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *OCIRepository) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *OCIRepository) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *OCIRepository) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *OCIRepository) SetLastHandledReconcileRequest(token string) {
	in.Status.SetLastHandledReconcileRequest(token)
}

// GetRequeueAfter returns spec.interval.
func (in *OCIRepository) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or DefaultTimeout (60s) when unset.
func (in *OCIRepository) GetTimeout() time.Duration {
	return timeoutOrDefault(in.Spec.Timeout)
}

// IsSuspended returns spec.suspend.
func (in *OCIRepository) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetArtifact returns status.artifact, nil when no Artifact exists yet.
func (in *OCIRepository) GetArtifact() *meta.Artifact {
	return in.Status.Artifact
}

// GetProvider returns spec.provider, defaulting to GenericOCIProvider.
func (in *OCIRepository) GetProvider() string {
	if in.Spec.Provider == "" {
		return GenericOCIProvider
	}
	return in.Spec.Provider
}

// GetLayerMediaType returns spec.layerSelector.mediaType, empty when no
// layer selector is set (meaning the first layer).
func (in *OCIRepository) GetLayerMediaType() string {
	if in.Spec.LayerSelector == nil {
		return ""
	}
	return in.Spec.LayerSelector.MediaType
}

// GetLayerOperation returns spec.layerSelector.operation, defaulting to
// OCILayerExtract.
func (in *OCIRepository) GetLayerOperation() string {
	if in.Spec.LayerSelector == nil || in.Spec.LayerSelector.Operation == "" {
		return OCILayerExtract
	}
	return in.Spec.LayerSelector.Operation
}

// OCIRepositoryList is a list of OCIRepository objects.
// +kubebuilder:object:root=true
type OCIRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the OCIRepository objects of the list.
	Items []OCIRepository `json:"items"`
}
