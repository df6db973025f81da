package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BucketKind is the kind name of Bucket objects.
const BucketKind = "Bucket"

// Object storage providers accepted in Bucket spec.provider.
const (
	// BucketProviderGeneric is any S3-compatible object storage. This is the
	// default.
	BucketProviderGeneric string = "generic"
	// BucketProviderAmazon is Amazon S3.
	BucketProviderAmazon string = "aws"
	// BucketProviderGoogle is Google Cloud Storage.
	BucketProviderGoogle string = "gcp"
	// BucketProviderAzure is Azure Blob Storage.
	BucketProviderAzure string = "azure"
)

// Security Token Service providers accepted in Bucket spec.sts.provider.
const (
	// STSProviderAmazon is the AWS Security Token Service; only valid with
	// the 'aws' bucket provider.
	STSProviderAmazon string = "aws"
	// STSProviderLDAP is an LDAP-backed STS such as MinIO's; only valid with
	// the 'generic' bucket provider.
	STSProviderLDAP string = "ldap"
)

// BucketSpec describes the object storage bucket whose objects are turned
// into an Artifact.
// +kubebuilder:validation:XValidation:rule="self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",message="spec.sts may only be used with the 'aws' and 'generic' providers"
// +kubebuilder:validation:XValidation:rule="self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",message="the 'aws' provider only supports the 'aws' STS provider"
// +kubebuilder:validation:XValidation:rule="self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",message="the 'generic' provider only supports the 'ldap' STS provider"
// +kubebuilder:validation:XValidation:rule="!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",message="spec.sts.secretRef must not be set for the 'aws' STS provider"
// +kubebuilder:validation:XValidation:rule="!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",message="spec.sts.certSecretRef must not be set for the 'aws' STS provider"
// +kubebuilder:validation:XValidation:rule="self.provider != 'generic' || !has(self.serviceAccountName)",message="spec.serviceAccountName cannot be used with the 'generic' provider"
// +kubebuilder:validation:XValidation:rule="!has(self.secretRef) || !has(self.serviceAccountName)",message="spec.secretRef and spec.serviceAccountName are mutually exclusive"
type BucketSpec struct {
	// Provider of the object storage: 'generic' (any S3-compatible API, the
	// default), 'aws', 'gcp' or 'azure'.
	// +kubebuilder:validation:Enum=generic;aws;gcp;azure
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`

	// BucketName is the name of the bucket to read.
	// +required
	BucketName string `json:"bucketName"`

	// Endpoint is the address of the object storage service hosting the
	// bucket.
	// +required
	Endpoint string `json:"endpoint"`

	// STS configures a Security Token Service to obtain temporary
	// credentials. Only valid with the 'aws' and 'generic' providers.
	// +optional
	STS *BucketSTSSpec `json:"sts,omitempty"`

	// Insecure allows plain HTTP connections to the Endpoint.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Region of the Endpoint the bucket lives in.
	// +optional
	Region string `json:"region,omitempty"`

	// Prefix restricts the listing, on the server side, to objects whose key
	// starts with it.
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// SecretRef names a Secret in the same namespace holding the credentials
	// for the bucket.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret (type Opaque or kubernetes.io/tls) in the
	// same namespace holding TLS material for the bucket connection:
	// 'tls.crt' and 'tls.key' for a client certificate and/or 'ca.crt' for a
	// custom certificate authority. Only supported by the 'generic' provider.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names a Secret in the same namespace holding the proxy
	// settings used to reach the Endpoint.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// ServiceAccountName is the Kubernetes ServiceAccount whose workload
	// identity is used to authenticate. Only valid with the 'gcp' and 'aws'
	// providers, and not together with SecretRef.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Interval is how often the bucket is checked for changes. The
	// controller may add a little jitter to spread the load.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout bounds each fetch operation. Defaults to 60s.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Ignore lists, in .gitignore syntax, the objects to leave out of the
	// Artifact. It replaces the built-in default exclusions when set.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops the reconciliation of this Bucket while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// BucketSTSSpec configures the Security Token Service used to obtain
// temporary credentials for a Bucket.
type BucketSTSSpec struct {
	// Provider of the Security Token Service: 'aws' or 'ldap'.
	// +kubebuilder:validation:Enum=aws;ldap
	// +required
	Provider string `json:"provider"`

	// Endpoint is the HTTP(S) address of the Security Token Service.
	// +kubebuilder:validation:Pattern="^(http|https)://.*$"
	// +required
	Endpoint string `json:"endpoint"`

	// SecretRef names a Secret in the same namespace with the 'username' and
	// 'password' used to authenticate to the STS. Only for the 'ldap'
	// provider.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret (type Opaque or kubernetes.io/tls) in the
	// same namespace holding TLS material for the STS connection: 'tls.crt'
	// and 'tls.key' for a client certificate and/or 'ca.crt' for a custom
	// certificate authority. Only for the 'ldap' provider.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`
}

// BucketStatus is the observed state of a Bucket.
type BucketStatus struct {
	// ObservedGeneration is the metadata.generation of the Bucket the
	// controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the current state of the Bucket.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is a stable address at which the latest Artifact can be
	// downloaded. Prefer the exact data in Artifact where possible.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the output of the last successful reconciliation.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is the spec.ignore value used for the current Artifact.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// Bucket watches an object storage bucket and publishes its objects as an
// Artifact.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories={all,fluxcd,fluxcd-sources}
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
type Bucket struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the Bucket.
	Spec BucketSpec `json:"spec,omitempty"`

	// Status is the observed state of the Bucket.
	// +kubebuilder:default={"observedGeneration":-1}
	Status BucketStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions of the object.
func (in *Bucket) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the object.
func (in *Bucket) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *Bucket) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *Bucket) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *Bucket) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *Bucket) SetLastHandledReconcileRequest(token string) {
	in.Status.SetLastHandledReconcileRequest(token)
}

// GetRequeueAfter returns spec.interval.
func (in *Bucket) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or DefaultTimeout (60s) when unset.
func (in *Bucket) GetTimeout() time.Duration {
	return timeoutOrDefault(in.Spec.Timeout)
}

// IsSuspended returns spec.suspend.
func (in *Bucket) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetArtifact returns status.artifact, nil when no Artifact exists yet.
func (in *Bucket) GetArtifact() *meta.Artifact {
	return in.Status.Artifact
}

// GetProvider returns spec.provider, defaulting to BucketProviderGeneric.
func (in *Bucket) GetProvider() string {
	if in.Spec.Provider == "" {
		return BucketProviderGeneric
	}
	return in.Spec.Provider
}

// BucketList is a list of Bucket objects.
// +kubebuilder:object:root=true
type BucketList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the Bucket objects of the list.
	Items []Bucket `json:"items"`
}
