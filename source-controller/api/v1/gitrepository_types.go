package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GitRepositoryKind is the kind name of GitRepository objects.
const GitRepositoryKind = "GitRepository"

// GitDefaultBranch is the branch checked out when spec.ref is empty.
const GitDefaultBranch = "master"

// Authentication providers accepted in GitRepository spec.provider.
const (
	// GitProviderGeneric authenticates with the credentials in spec.secretRef
	// (basic auth, bearer token or SSH key).
	GitProviderGeneric string = "generic"
	// GitProviderAzure authenticates against Azure DevOps with workload
	// identity.
	GitProviderAzure string = "azure"
	// GitProviderGitHub authenticates as a GitHub App.
	GitProviderGitHub string = "github"
	// GitProviderAWS authenticates against AWS CodeCommit with workload
	// identity.
	GitProviderAWS string = "aws"
)

// GitRepositorySpec describes the Git repository to watch and how to turn a
// revision of it into an Artifact.
// +kubebuilder:validation:XValidation:rule="!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",message="serviceAccountName may only be used with the 'azure' or 'aws' provider"
type GitRepositorySpec struct {
	// URL of the Git repository, using the http, https or ssh scheme.
	// +kubebuilder:validation:Pattern="^(http|https|ssh)://.*$"
	// +required
	URL string `json:"url"`

	// SecretRef names a Secret in the same namespace holding the credentials
	// for the repository: 'username' and 'password' or 'bearerToken' for
	// HTTPS, 'identity' and 'known_hosts' for SSH. Anonymous access when unset.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// Provider selects how to authenticate to the Git server: 'generic'
	// (credentials from SecretRef), 'azure', 'aws' or 'github'. Behaves like
	// 'generic' when unset.
	// +kubebuilder:validation:Enum=generic;aws;azure;github
	// +optional
	Provider string `json:"provider,omitempty"`

	// ServiceAccountName is the Kubernetes ServiceAccount whose workload
	// identity is used to authenticate. Only valid with the 'azure' and 'aws'
	// providers.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Interval is how often the repository is checked for new revisions. The
	// controller may add a little jitter to spread the load.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout bounds each Git operation such as a clone. Defaults to 60s.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Reference selects the branch, tag, semver range, named ref or commit to
	// check out. The 'master' branch is used when unset.
	// +optional
	Reference *GitRepositoryRef `json:"ref,omitempty"`

	// Verification enables the verification of the signature of the checked
	// out commit and/or tag. Nothing is verified when unset.
	// +optional
	Verification *GitRepositoryVerification `json:"verify,omitempty"`

	// ProxySecretRef names a Secret in the same namespace holding the proxy
	// settings ('address', optionally 'username' and 'password') used to reach
	// the Git server.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Ignore lists, in .gitignore syntax, the files to leave out of the
	// Artifact. It replaces the built-in default exclusions when set.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops the reconciliation of this GitRepository while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// RecurseSubmodules also clones every submodule of the repository with
	// its default settings. Off by default.
	// +optional
	RecurseSubmodules bool `json:"recurseSubmodules,omitempty"`

	// Include copies the Artifact contents of other GitRepository objects in
	// the same namespace into the Artifact of this one.
	// +optional
	Include []GitRepositoryInclude `json:"include,omitempty"`

	// SparseCheckout restricts the checkout, and therefore the Artifact, to
	// the listed directories. The whole tree is checked out when empty.
	// +optional
	SparseCheckout []string `json:"sparseCheckout,omitempty"`
}

// GitRepositoryInclude points at another GitRepository whose Artifact
// contents are copied into the Artifact of the including GitRepository.
type GitRepositoryInclude struct {
	// GitRepositoryRef names the GitRepository, in the same namespace, whose
	// Artifact is included.
	// +required
	GitRepositoryRef meta.LocalObjectReference `json:"repository"`

	// FromPath is the directory inside the included Artifact to copy from.
	// The root of the Artifact when empty.
	// +optional
	FromPath string `json:"fromPath,omitempty"`

	// ToPath is the directory inside this Artifact to copy to. Defaults to
	// the name of the included GitRepository.
	// +optional
	ToPath string `json:"toPath,omitempty"`
}

// GetFromPath returns the directory to copy from inside the included
// Artifact.
func (in *GitRepositoryInclude) GetFromPath() string {
	return in.FromPath
}

// GetToPath returns the destination directory of the included contents,
// defaulting to the name of the included GitRepository.
func (in *GitRepositoryInclude) GetToPath() string {
	if in.ToPath == "" {
		return in.GitRepositoryRef.Name
	}
	return in.ToPath
}

// GitRepositoryRef selects the Git revision to check out. When several fields
// are set the most specific wins: Commit, then Name, then SemVer, then Tag,
// then Branch.
type GitRepositoryRef struct {
	// Branch to check out. 'master' is used when no field is set.
	// +optional
	Branch string `json:"branch,omitempty"`

	// Tag to check out; wins over Branch.
	// +optional
	Tag string `json:"tag,omitempty"`

	// SemVer is a semantic version range; the highest matching tag is checked
	// out. Wins over Tag.
	// +optional
	SemVer string `json:"semver,omitempty"`

	// Name is a full Git reference such as "refs/heads/main",
	// "refs/tags/v1.0.0" or "refs/pull/1/head". Wins over Branch, Tag and
	// SemVer.
	// +optional
	Name string `json:"name,omitempty"`

	// Commit is the SHA of the commit to check out and wins over every other
	// field. Combined with Branch, only that branch is fetched and the commit
	// must be part of it.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// GitVerificationMode names the Git object(s) whose signature is verified.
type GitVerificationMode string

// Valid GitVerificationMode values.
const (
	// ModeGitHEAD verifies the commit the resolved reference points to.
	ModeGitHEAD GitVerificationMode = "HEAD"
	// ModeGitTag verifies the annotated tag the reference points to.
	ModeGitTag GitVerificationMode = "Tag"
	// ModeGitTagAndHEAD verifies both the tag and the commit it points to.
	ModeGitTagAndHEAD GitVerificationMode = "TagAndHEAD"
	// modeGitHEADLower is the lowercase spelling of ModeGitHEAD kept for
	// older manifests.
	modeGitHEADLower GitVerificationMode = "head"
)

// GitRepositoryVerification configures the signature verification of Git
// objects.
type GitRepositoryVerification struct {
	// Mode selects what is verified: 'HEAD' (the checked out commit; 'head'
	// is accepted as an alias), 'Tag' (the annotated tag) or 'TagAndHEAD'
	// (both). Defaults to 'HEAD'.
	// +kubebuilder:validation:Enum=head;HEAD;Tag;TagAndHEAD
	// +kubebuilder:default=HEAD
	// +optional
	Mode GitVerificationMode `json:"mode,omitempty"`

	// SecretRef names a Secret in the same namespace holding the trusted
	// public keys: PGP keys under keys ending in '.asc', SSH keys under keys
	// ending in '.sshpub'.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`
}

// GetMode returns the verification mode with the 'head' alias and the empty
// value normalised to ModeGitHEAD.
func (in *GitRepositoryVerification) GetMode() GitVerificationMode {
	if in.Mode == "" || in.Mode == modeGitHEADLower {
		return ModeGitHEAD
	}
	return in.Mode
}

// VerifyHEAD reports whether the commit has to be verified.
func (in *GitRepositoryVerification) VerifyHEAD() bool {
	m := in.GetMode()
	return m == ModeGitHEAD || m == ModeGitTagAndHEAD
}

// VerifyTag reports whether the tag has to be verified.
func (in *GitRepositoryVerification) VerifyTag() bool {
	m := in.GetMode()
	return m == ModeGitTag || m == ModeGitTagAndHEAD
}

// GitRepositoryStatus is the observed state of a GitRepository.
type GitRepositoryStatus struct {
	// ObservedGeneration is the metadata.generation of the GitRepository the
	// controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the current state of the GitRepository.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Artifact is the output of the last successful reconciliation.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// IncludedArtifacts are the Artifacts of the GitRepository objects listed
	// in spec.include at the last successful reconciliation, in the same
	// order.
	// +optional
	IncludedArtifacts []*meta.Artifact `json:"includedArtifacts,omitempty"`

	// ObservedIgnore is the spec.ignore value used for the current Artifact.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedRecurseSubmodules is the spec.recurseSubmodules value used for
	// the current Artifact.
	// +optional
	ObservedRecurseSubmodules bool `json:"observedRecurseSubmodules,omitempty"`

	// ObservedInclude is the spec.include value used for the current
	// Artifact.
	// +optional
	ObservedInclude []GitRepositoryInclude `json:"observedInclude,omitempty"`

	// ObservedSparseCheckout is the spec.sparseCheckout value used for the
	// current Artifact.
	// +optional
	ObservedSparseCheckout []string `json:"observedSparseCheckout,omitempty"`

	// SourceVerificationMode is the verification mode that was applied to
	// the current Artifact.
	// +optional
	SourceVerificationMode *GitVerificationMode `json:"sourceVerificationMode,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// GitRepository watches a Git repository and publishes the checked out
// revision as an Artifact.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=gitrepo,categories={all,fluxcd,fluxcd-sources}
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the GitRepository.
	Spec GitRepositorySpec `json:"spec,omitempty"`

	// Status is the observed state of the GitRepository.
	// +kubebuilder:default={"observedGeneration":-1}
	Status GitRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions of the object.
func (in *GitRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the object.
func (in *GitRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *GitRepository) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *GitRepository) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *GitRepository) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *GitRepository) SetLastHandledReconcileRequest(token string) {
	in.Status.SetLastHandledReconcileRequest(token)
}

// GetRequeueAfter returns spec.interval.
func (in *GitRepository) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or DefaultTimeout (60s) when unset.
func (in *GitRepository) GetTimeout() time.Duration {
	return timeoutOrDefault(in.Spec.Timeout)
}

// IsSuspended returns spec.suspend.
func (in *GitRepository) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetArtifact returns status.artifact, nil when no Artifact exists yet.
func (in *GitRepository) GetArtifact() *meta.Artifact {
	return in.Status.Artifact
}

// GetProvider returns spec.provider, defaulting to GitProviderGeneric.
func (in *GitRepository) GetProvider() string {
	if in.Spec.Provider == "" {
		return GitProviderGeneric
	}
	return in.Spec.Provider
}

// GitRepositoryList is a list of GitRepository objects.
// +kubebuilder:object:root=true
type GitRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the GitRepository objects of the list.
	Items []GitRepository `json:"items"`
}
