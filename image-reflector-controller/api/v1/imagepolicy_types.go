package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImagePolicyKind is the kind name of ImagePolicy objects.
const ImagePolicyKind = "ImagePolicy"

// DefaultImagePolicyInterval is how often the digest of the chosen tag is
// refreshed when spec.digestReflectionPolicy is Always and spec.interval is
// not set.
const DefaultImagePolicyInterval = 10 * time.Minute

// Sort orders accepted by the alphabetical and numerical policies.
const (
	// OrderAsc selects the highest tag (Z, or 9); it is the default.
	OrderAsc string = "asc"
	// OrderDesc selects the lowest tag (A, or 0).
	OrderDesc string = "desc"
)

// ReflectionPolicy says when the controller copies a value read from the
// registry (the image digest) into the ImagePolicy status.
// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
type ReflectionPolicy string

const (
	// ReflectAlways looks the digest up on every reconciliation, so it
	// follows the registry even when a tag is re-pushed.
	ReflectAlways ReflectionPolicy = "Always"
	// ReflectIfNotPresent records the digest once, when the chosen tag
	// changes or no digest is recorded yet, and keeps it afterwards.
	ReflectIfNotPresent ReflectionPolicy = "IfNotPresent"
	// ReflectNever never records a digest; it is the default.
	ReflectNever ReflectionPolicy = "Never"
)

// ImagePolicySpec says which ImageRepository to read tags from and how to
// pick the latest one.
// +kubebuilder:validation:XValidation:rule="!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')",message="spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'"
// +kubebuilder:validation:XValidation:rule="has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'",message="spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"
type ImagePolicySpec struct {
	// ImageRepositoryRef names the ImageRepository whose scanned tags this
	// policy chooses from. The namespace defaults to the policy's own; a
	// different namespace must be allowed by the repository's accessFrom.
	// +required
	ImageRepositoryRef meta.NamespacedObjectReference `json:"imageRepositoryRef"`

	// Policy is the rule used to order the tags; the first tag in that
	// order is the latest image.
	// +required
	Policy ImagePolicyChoice `json:"policy"`

	// FilterTags narrows the tags considered before ordering them. When
	// unset, every scanned tag is considered.
	// +optional
	FilterTags *TagFilter `json:"filterTags,omitempty"`

	// DigestReflectionPolicy controls status.latestRef.digest:
	// `Never` leaves it empty; `IfNotPresent` fills it in when the chosen
	// image changes or it is empty, and then keeps it; `Always` refreshes it
	// every Interval. Defaults to `Never`.
	// +kubebuilder:default:=Never
	// +optional
	DigestReflectionPolicy ReflectionPolicy `json:"digestReflectionPolicy,omitempty"`

	// Interval is how often the digest of the chosen tag is looked up
	// again. It may only be set, and must be set, when
	// DigestReflectionPolicy is `Always`. Defaults to 10m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Suspend stops future evaluations of the policy while true; one that
	// is already running finishes. Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ImagePolicyChoice holds the ordering rule of an ImagePolicy; exactly one
// of its fields is expected to be set.
type ImagePolicyChoice struct {
	// SemVer orders tags as semantic versions and keeps only those inside
	// a version range.
	// +optional
	SemVer *SemVerPolicy `json:"semver,omitempty"`

	// Alphabetical orders tags lexically.
	// +optional
	Alphabetical *AlphabeticalPolicy `json:"alphabetical,omitempty"`

	// Numerical orders tags as numbers.
	// +optional
	Numerical *NumericalPolicy `json:"numerical,omitempty"`
}

// SemVerPolicy chooses the highest semantic version within a range.
type SemVerPolicy struct {
	// Range is a semver constraint such as `>=1.0.0 <2.0.0` or `1.x`; the
	// highest tag that satisfies it is chosen.
	// +required
	Range string `json:"range"`
}

// AlphabeticalPolicy chooses a tag by lexical order.
type AlphabeticalPolicy struct {
	// Order is the sort direction: `asc` (the default) chooses the last
	// tag in alphabetical order (Z of A..Z), `desc` the first (A).
	// +kubebuilder:validation:Enum=asc;desc
	// +kubebuilder:default:=asc
	// +optional
	Order string `json:"order,omitempty"`
}

// NumericalPolicy chooses a tag by numeric value.
type NumericalPolicy struct {
	// Order is the sort direction: `asc` (the default) chooses the largest
	// number (9 of 0..9), `desc` the smallest (0).
	// +kubebuilder:validation:Enum=asc;desc
	// +kubebuilder:default:=asc
	// +optional
	Order string `json:"order,omitempty"`
}

// TagFilter keeps only the tags that match a regular expression, and can
// rewrite them before they are ordered.
type TagFilter struct {
	// Pattern is a regular expression a tag must match to be considered.
	// +optional
	Pattern string `json:"pattern,omitempty"`

	// Extract is a replacement template using the capture groups of
	// Pattern (e.g. `$ts`); the result, instead of the whole tag, is what
	// the policy orders.
	// +optional
	Extract string `json:"extract,omitempty"`
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
func (in *ImageRef) String() string {
	s := in.Name + ":" + in.Tag
	if in.Digest != "" {
		s += "@" + in.Digest
	}
	return s
}

// ImagePolicyStatus is what the controller last computed for the policy.
type ImagePolicyStatus struct {
	// LatestRef is the image chosen by the policy: the first tag after
	// filtering and ordering the scanned tags.
	// +optional
	LatestRef *ImageRef `json:"latestRef,omitempty"`

	// ObservedPreviousRef is the LatestRef before the most recent change,
	// so that a change of image can be reported.
	// +optional
	ObservedPreviousRef *ImageRef `json:"observedPreviousRef,omitempty"`

	// ObservedGeneration is the metadata.generation the controller last
	// reconciled; -1 until the first reconciliation.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions hold the latest observations of the object's state
	// (Ready, Reconciling, Stalled).
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// ImagePolicy chooses the latest image from the tags an ImageRepository
// scanned, according to a semver, alphabetical or numerical rule.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=imgpol;imagepol,categories=all;fluxcd;fluxcd-images
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.status.latestRef.name`
// +kubebuilder:printcolumn:name="Tag",type=string,JSONPath=`.status.latestRef.tag`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImagePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired policy.
	Spec ImagePolicySpec `json:"spec,omitempty"`

	// Status is the observed state, written by the controller.
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImagePolicyStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions of the ImagePolicy.
func (in *ImagePolicy) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the ImagePolicy.
func (in *ImagePolicy) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *ImagePolicy) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *ImagePolicy) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *ImagePolicy) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *ImagePolicy) SetLastHandledReconcileRequest(token string) {
	in.Status.LastHandledReconcileAt = token
}

// GetDigestReflectionPolicy returns spec.digestReflectionPolicy, or
// ReflectNever when it is empty.
func (in *ImagePolicy) GetDigestReflectionPolicy() ReflectionPolicy {
	if in.Spec.DigestReflectionPolicy == "" {
		return ReflectNever
	}
	return in.Spec.DigestReflectionPolicy
}

// GetInterval returns how often the policy refreshes the digest on its
// own: spec.interval (default DefaultImagePolicyInterval) when the digest
// reflection policy is Always, and zero otherwise (the policy is then only
// re-evaluated when its ImageRepository changes).
func (in *ImagePolicy) GetInterval() time.Duration {
	if in.GetDigestReflectionPolicy() != ReflectAlways {
		return 0
	}
	if in.Spec.Interval == nil || in.Spec.Interval.Duration <= 0 {
		return DefaultImagePolicyInterval
	}
	return in.Spec.Interval.Duration
}

// GetRequeueAfter returns the periodic requeue interval; see GetInterval.
// Zero means no periodic requeue.
func (in *ImagePolicy) GetRequeueAfter() time.Duration {
	return in.GetInterval()
}

// IsSuspended reports whether spec.suspend is true.
func (in *ImagePolicy) IsSuspended() bool {
	return in.Spec.Suspend
}

// ImagePolicyList is a list of ImagePolicy objects.
// +kubebuilder:object:root=true
type ImagePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the ImagePolicy objects in the list.
	Items []ImagePolicy `json:"items"`
}
