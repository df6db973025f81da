package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KustomizationKind is the kind name of the Kustomization API.
const KustomizationKind = "Kustomization"

// KustomizationSpec is the desired state of a Kustomization: which source
// artifact to read, which path inside it to build with kustomize, how to
// transform the result and how to apply, prune and health check it.
type KustomizationSpec struct {
	// CommonMetadata holds labels and annotations that the controller sets
	// on every object it applies. A key that already exists on an object is
	// overwritten with the common value. Unset means nothing is added.
	// +optional
	CommonMetadata *CommonMetadata `json:"commonMetadata,omitempty"`

	// DependsOn lists other Kustomizations (optionally in another namespace
	// and with a CEL readiness expression) that must be ready before this
	// one is reconciled. Empty means no dependencies.
	// +optional
	DependsOn []meta.DependencyReference `json:"dependsOn,omitempty"`

	// Decryption configures how encrypted Secrets in the build output are
	// decrypted before they are applied. Unset means nothing is decrypted.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// Interval is how often the Kustomization is reconciled, e.g. "10m".
	// The controller may add some jitter to spread the load.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// RetryInterval is how long to wait before retrying after a failed
	// reconciliation. When unset the Interval is used.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`

	// KubeConfig points at a Secret or ConfigMap describing a remote cluster
	// to apply to instead of the cluster the controller runs in. Together
	// with ServiceAccountName the controller impersonates that account on
	// the remote cluster; when ServiceAccountName is empty the controller's
	// --default-service-account flag is used as a fallback.
	// +optional
	KubeConfig *meta.KubeConfigReference `json:"kubeConfig,omitempty"`

	// Path is the directory inside the source artifact that holds the
	// kustomization.yaml, or the plain YAML files for which one is
	// generated. Defaults to the root of the artifact.
	// +optional
	Path string `json:"path,omitempty"`

	// PostBuild configures variable substitution performed on the YAML
	// that kustomize produced. Unset means no substitution.
	// +optional
	PostBuild *PostBuild `json:"postBuild,omitempty"`

	// Prune turns on garbage collection: objects applied by a previous
	// revision and missing from the current one are deleted.
	// +required
	Prune bool `json:"prune"`

	// DeletionPolicy decides what happens to the applied objects when the
	// Kustomization itself is deleted: 'MirrorPrune' follows Prune (delete
	// when true, orphan when false), 'Delete' always deletes, 'Orphan'
	// always leaves them, 'WaitForTermination' deletes and waits until they
	// are gone. Defaults to 'MirrorPrune'.
	// +kubebuilder:validation:Enum=MirrorPrune;Delete;WaitForTermination;Orphan
	// +optional
	DeletionPolicy string `json:"deletionPolicy,omitempty"`

	// HealthChecks lists objects whose readiness is part of the health
	// assessment of this Kustomization. Ignored when Wait is true.
	// +optional
	HealthChecks []meta.NamespacedObjectKindReference `json:"healthChecks,omitempty"`

	// NamePrefix is prepended to the name of every object in the build.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +optional
	NamePrefix string `json:"namePrefix,omitempty"`

	// NameSuffix is appended to the name of every object in the build.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +optional
	NameSuffix string `json:"nameSuffix,omitempty"`

	// Patches are inline strategic merge or JSON 6902 patches applied by
	// kustomize, each optionally limited to the objects matched by a target
	// selector (kind, name, labels, annotations...).
	// +optional
	Patches []kustomize.Patch `json:"patches,omitempty"`

	// Images overrides container image names, tags or digests in the build,
	// a shorthand for the equivalent patches.
	// +optional
	Images []kustomize.Image `json:"images,omitempty"`

	// ServiceAccountName is the Kubernetes ServiceAccount, in the namespace
	// of the Kustomization, that the controller impersonates when applying.
	// Empty means the controller's own identity (or its
	// --default-service-account flag).
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// SourceRef points at the source object (GitRepository, OCIRepository,
	// Bucket or ExternalArtifact) whose artifact holds the manifests.
	// +required
	SourceRef CrossNamespaceSourceReference `json:"sourceRef"`

	// Suspend stops future reconciliations of this Kustomization; one that
	// is already running is not interrupted. Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// TargetNamespace sets the namespace of every namespaced object in the
	// build, overriding the one in kustomization.yaml.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// Timeout bounds building, applying and health checking. When unset it
	// is derived from the Interval (see GetTimeout).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Force makes the controller delete and recreate objects whose update
	// is rejected because an immutable field changed. Defaults to false.
	// +kubebuilder:default:=false
	// +optional
	Force bool `json:"force,omitempty"`

	// Wait makes the controller wait for every applied object to become
	// ready, in which case HealthChecks is ignored. Defaults to false.
	// +optional
	Wait bool `json:"wait,omitempty"`

	// Components lists paths, relative to Path, of kustomize Components to
	// add to the build.
	// +optional
	Components []string `json:"components,omitempty"`

	// IgnoreMissingComponents drops entries of Components that do not exist
	// in the source instead of failing the build. Defaults to false.
	// +optional
	IgnoreMissingComponents bool `json:"ignoreMissingComponents,omitempty"`

	// HealthCheckExprs are CEL expressions that tell the health checker
	// when objects of a custom kind are current, in progress or failed.
	// They are used only when Wait or HealthChecks is set.
	// +optional
	HealthCheckExprs []kustomize.CustomHealthCheck `json:"healthCheckExprs,omitempty"`

	// Ignore lists JSON pointer paths, optionally limited to some objects,
	// that drift detection and apply leave alone.
	// +optional
	Ignore []IgnoreRule `json:"ignore,omitempty"`

	// BuildMetadata selects which kustomize build metadata annotations are
	// kept on the applied objects: 'originAnnotations' (where the object
	// came from) and/or 'transformerAnnotations' (which transformers
	// changed it). Empty means none.
	// +optional
	BuildMetadata []BuildMetadataOption `json:"buildMetadata,omitempty"`
}

// KustomizationStatus is the observed state of a Kustomization.
type KustomizationStatus struct {
	meta.ReconcileRequestStatus `json:",inline"`

	// ObservedGeneration is the metadata.generation last handled by the
	// controller; -1 until the first reconciliation.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are the Ready, Reconciling, Stalled and Healthy conditions
	// of the Kustomization.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAppliedRevision is the revision of the source artifact that was
	// last applied successfully.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// LastAppliedOriginRevision is the origin revision (e.g. the
	// org.opencontainers.image.revision annotation of an OCI artifact) of
	// the artifact that was last applied successfully, when the source
	// provides one.
	// +optional
	LastAppliedOriginRevision string `json:"lastAppliedOriginRevision,omitempty"`

	// LastAttemptedRevision is the source revision of the latest
	// reconciliation attempt, whether it succeeded or not.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// Inventory records every object applied by the last successful
	// reconciliation; it drives pruning and deletion.
	// +optional
	Inventory *ResourceInventory `json:"inventory,omitempty"`

	// History keeps the most recent reconciliation snapshots: the digest of
	// the applied objects, when and how often they were reconciled, the
	// outcome and duration of the latest attempt.
	// +optional
	History meta.History `json:"history,omitempty"`
}

// Kustomization builds a path of a source artifact with kustomize and
// applies the result to the cluster, with optional pruning, health checks,
// decryption and variable substitution.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=ks,categories={all,fluxcd,fluxcd-appliers}
// +kubebuilder:subresource:status
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
type Kustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the Kustomization.
	Spec KustomizationSpec `json:"spec,omitempty"`

	// Status is the observed state of the Kustomization.
	// +kubebuilder:default={"observedGeneration":-1}
	Status KustomizationStatus `json:"status,omitempty"`
}

// KustomizationList is a list of Kustomization objects.
// +kubebuilder:object:root=true
type KustomizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Kustomizations of the list.
	Items []Kustomization `json:"items"`
}

// minTimeout is the smallest timeout GetTimeout returns, and the margin
// it keeps below the interval when spec.timeout is unset.
const minTimeout = 30 * time.Second

// GetConditions returns the status conditions of the Kustomization.
func (in *Kustomization) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the Kustomization.
func (in *Kustomization) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *Kustomization) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *Kustomization) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt, the
// last reconcile.fluxcd.io/requestedAt value the controller acted on.
func (in *Kustomization) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *Kustomization) SetLastHandledReconcileRequest(token string) {
	in.Status.SetLastHandledReconcileRequest(token)
}

// GetRequeueAfter returns spec.interval, the delay until the next
// reconciliation after a successful one.
func (in *Kustomization) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetRetryInterval returns spec.retryInterval when set, otherwise
// spec.interval: the delay before retrying a failed reconciliation.
func (in *Kustomization) GetRetryInterval() time.Duration {
	if in.Spec.RetryInterval != nil {
		return in.Spec.RetryInterval.Duration
	}
	return in.GetRequeueAfter()
}

// GetTimeout returns the time budget of one reconciliation: spec.timeout
// when set, otherwise spec.interval minus 30 seconds. The result is never
// less than 30 seconds, matching the upstream controller.
func (in *Kustomization) GetTimeout() time.Duration {
	timeout := in.Spec.Interval.Duration - minTimeout
	if in.Spec.Timeout != nil {
		timeout = in.Spec.Timeout.Duration
	}
	if timeout < minTimeout {
		return minTimeout
	}
	return timeout
}

// IsSuspended reports whether spec.suspend is true.
func (in *Kustomization) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetDependsOn returns spec.dependsOn.
func (in *Kustomization) GetDependsOn() []meta.DependencyReference {
	return in.Spec.DependsOn
}

// GetDeletionPolicy returns spec.deletionPolicy, or MirrorPrune when it is
// unset.
func (in *Kustomization) GetDeletionPolicy() string {
	if in.Spec.DeletionPolicy == "" {
		return DeletionPolicyMirrorPrune
	}
	return in.Spec.DeletionPolicy
}
