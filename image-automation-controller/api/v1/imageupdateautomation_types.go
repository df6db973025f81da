package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageUpdateAutomationKind is the kind name of ImageUpdateAutomation objects.
const ImageUpdateAutomationKind = "ImageUpdateAutomation"

// GitRepositoryKind is the only source kind an ImageUpdateAutomation can
// refer to.
const GitRepositoryKind = "GitRepository"

// UpdateStrategyName names a way of updating the files in the repository.
// +kubebuilder:validation:Enum=Setters
type UpdateStrategyName string

// UpdateStrategySetters rewrites the fields marked with image policy setter
// comments (`# {"$imagepolicy": "ns:name"}`) in the YAML files under the
// update path. It is the only strategy and the default.
const UpdateStrategySetters UpdateStrategyName = "Setters"

// ImageUpdateAutomationSpec says which Git repository to update, how
// often, with which policies, and how to commit and push the changes.
type ImageUpdateAutomationSpec struct {
	// SourceRef names the GitRepository to clone and push to. Its namespace
	// defaults to the automation's own.
	// +required
	SourceRef CrossNamespaceSourceReference `json:"sourceRef"`

	// GitSpec holds the Git checkout, commit and push settings. The schema
	// allows leaving it out, but no update can be made without it.
	// +optional
	GitSpec *GitSpec `json:"git,omitempty"`

	// Interval is the minimum time between two automation runs, as a Go
	// duration (e.g. `5m`).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// PolicySelector restricts the ImagePolicies (in the automation's
	// namespace) whose latest images are applied. When unset, all of them
	// are used.
	// +optional
	PolicySelector *metav1.LabelSelector `json:"policySelector,omitempty"`

	// Update says how files are updated. Defaults to the Setters strategy
	// on the repository root.
	// +kubebuilder:default={"strategy":"Setters"}
	// +optional
	Update *UpdateStrategy `json:"update,omitempty"`

	// Suspend stops future automation runs while true. Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// CrossNamespaceSourceReference points at the Git source of an
// automation, possibly in another namespace.
type CrossNamespaceSourceReference struct {
	// APIVersion is the API version of the source, e.g.
	// `source.toolkit.fluxcd.io/v1`.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind is the kind of the source; only `GitRepository` is accepted,
	// which is also the default.
	// +kubebuilder:validation:Enum=GitRepository
	// +kubebuilder:default=GitRepository
	// +required
	Kind string `json:"kind"`

	// Name is the name of the source.
	// +required
	Name string `json:"name"`

	// Namespace is the namespace of the source; defaults to the namespace
	// of the ImageUpdateAutomation.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// String formats the reference as `Kind/namespace/name`, leaving out an
// empty namespace.
func (in CrossNamespaceSourceReference) String() string {
	if in.Namespace != "" {
		return in.Kind + "/" + in.Namespace + "/" + in.Name
	}
	return in.Kind + "/" + in.Name
}

// UpdateStrategy says how and where files are updated.
type UpdateStrategy struct {
	// Strategy is the update strategy; only (and by default) `Setters`.
	// +kubebuilder:default=Setters
	// +optional
	Strategy UpdateStrategyName `json:"strategy,omitempty"`

	// Path is the directory, relative to the repository root, whose files
	// are updated. Defaults to the repository root.
	// +optional
	Path string `json:"path,omitempty"`
}

// ImageRef identifies one image: repository name, tag and optionally digest.
type ImageRef struct {
	// Name is the image repository name without tag or digest.
	// +required
	Name string `json:"name"`

	// Tag is the image tag.
	// +required
	Tag string `json:"tag"`

	// Digest is the image manifest digest, e.g. `sha256:...`.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// String formats the reference as `name:tag`, followed by `@digest` when a
// digest is known.
func (in ImageRef) String() string {
	s := in.Name + ":" + in.Tag
	if in.Digest != "" {
		s += "@" + in.Digest
	}
	return s
}

// ObservedPolicies maps the name of each ImagePolicy taken into account by
// the last run to the image it selected.
type ObservedPolicies map[string]ImageRef

// ImageUpdateAutomationStatus is what the controller last observed and did.
type ImageUpdateAutomationStatus struct {
	// LastAutomationRunTime is when the automation last ran to completion,
	// whether or not it changed anything.
	// +optional
	LastAutomationRunTime *metav1.Time `json:"lastAutomationRunTime,omitempty"`

	// LastPushCommit is the SHA of the last commit this automation pushed.
	// +optional
	LastPushCommit string `json:"lastPushCommit,omitempty"`

	// LastPushTime is when this automation last pushed a commit.
	// +optional
	LastPushTime *metav1.Time `json:"lastPushTime,omitempty"`

	// ObservedGeneration is the metadata.generation the controller last
	// reconciled; -1 until the first reconciliation.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedPolicies are the ImagePolicies, and their selected images,
	// used by the last run.
	// +optional
	ObservedPolicies ObservedPolicies `json:"observedPolicies,omitempty"`

	// ObservedSourceRevision is the Git revision of the source seen by the
	// last run, used to tell whether the source moved since then.
	// +optional
	ObservedSourceRevision string `json:"observedSourceRevision,omitempty"`

	// Conditions hold the latest observations of the object's state
	// (Ready, Reconciling, Stalled).
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// ImageUpdateAutomation writes the images chosen by ImagePolicies into the
// manifests of a Git repository, then commits and pushes the change.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=iua;imgupd;imgauto,categories=all;fluxcd;fluxcd-images
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Last run",type=string,JSONPath=`.status.lastAutomationRunTime`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImageUpdateAutomation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired automation.
	Spec ImageUpdateAutomationSpec `json:"spec,omitempty"`

	// Status is the observed state, written by the controller.
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImageUpdateAutomationStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions of the ImageUpdateAutomation.
func (in *ImageUpdateAutomation) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the ImageUpdateAutomation.
func (in *ImageUpdateAutomation) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *ImageUpdateAutomation) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *ImageUpdateAutomation) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *ImageUpdateAutomation) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *ImageUpdateAutomation) SetLastHandledReconcileRequest(token string) {
	in.Status.LastHandledReconcileAt = token
}

// GetRequeueAfter returns the automation interval (spec.interval).
func (in *ImageUpdateAutomation) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// IsSuspended reports whether spec.suspend is true.
func (in *ImageUpdateAutomation) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetUpdateStrategy returns spec.update with its defaults applied: the
// Setters strategy when none is named. The returned value is a copy.
func (in *ImageUpdateAutomation) GetUpdateStrategy() UpdateStrategy {
	var u UpdateStrategy
	if in.Spec.Update != nil {
		u = *in.Spec.Update
	}
	if u.Strategy == "" {
		u.Strategy = UpdateStrategySetters
	}
	return u
}

// GetSourceNamespace returns spec.sourceRef.namespace, or the namespace of
// the automation when it is empty.
func (in *ImageUpdateAutomation) GetSourceNamespace() string {
	if in.Spec.SourceRef.Namespace != "" {
		return in.Spec.SourceRef.Namespace
	}
	return in.Namespace
}

// ImageUpdateAutomationList is a list of ImageUpdateAutomation objects.
// +kubebuilder:object:root=true
type ImageUpdateAutomationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the ImageUpdateAutomation objects in the list.
	Items []ImageUpdateAutomation `json:"items"`
}
