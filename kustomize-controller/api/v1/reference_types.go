package v1

import (
	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/apis/meta"
)

// CrossNamespaceSourceReference locates the source object, possibly in
// another namespace, whose artifact a Kustomization builds.
type CrossNamespaceSourceReference struct {
	// APIVersion of the source object, e.g. source.toolkit.fluxcd.io/v1.
	// Empty means the version the controller prefers.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source object.
	// +kubebuilder:validation:Enum=OCIRepository;GitRepository;Bucket;ExternalArtifact
	// +required
	Kind string `json:"kind"`

	// Name of the source object.
	// +required
	Name string `json:"name"`

	// Namespace of the source object. Defaults to the namespace of the
	// Kustomization that holds this reference.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// String returns the reference as "Kind/[namespace/]name".
func (in CrossNamespaceSourceReference) String() string {
	if in.Namespace != "" {
		return in.Kind + "/" + in.Namespace + "/" + in.Name
	}
	return in.Kind + "/" + in.Name
}

// Decryption configures the decryption of encrypted Secrets found in the
// build output.
type Decryption struct {
	// Provider is the decryption engine; only 'sops' is supported.
	// +kubebuilder:validation:Enum=sops
	// +required
	Provider string `json:"provider"`

	// SecretRef names a Secret, in the namespace of the Kustomization,
	// holding private keys (OpenPGP, age) or cloud KMS credentials used for
	// decryption. Static cloud credentials found here win over the
	// ServiceAccountName based authentication.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName is the ServiceAccount whose workload identity is
	// used to reach cloud KMS services. Static credentials in SecretRef for
	// the same cloud provider take precedence.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// PostBuild describes what to do with the YAML produced by kustomize
// before it is applied.
type PostBuild struct {
	// Substitute maps variable names to values. Every ${name} in the
	// manifests is replaced with its value; bash-style forms such as
	// ${var:=default}, ${var:position} and ${var/substring/replacement} are
	// supported.
	// +optional
	Substitute map[string]string `json:"substitute,omitempty"`

	// SubstituteFrom lists ConfigMaps and Secrets whose data keys and
	// values are used as further substitution variables.
	// +optional
	SubstituteFrom []SubstituteReference `json:"substituteFrom,omitempty"`

	// SubstituteStrategy decides when substitution runs: 'WithVariables'
	// (the default) only when at least one variable is defined inline or
	// through SubstituteFrom, 'Always' even when no variable is defined.
	// +kubebuilder:validation:Enum=WithVariables;Always
	// +optional
	SubstituteStrategy string `json:"substituteStrategy,omitempty"`
}

// SubstituteReference points at a ConfigMap or Secret whose data entries
// become substitution variables.
type SubstituteReference struct {
	// Kind of the referenced object, 'Secret' or 'ConfigMap'.
	// +kubebuilder:validation:Enum=Secret;ConfigMap
	// +required
	Kind string `json:"kind"`

	// Name of the referenced object, which lives in the namespace of the
	// Kustomization.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Optional lets reconciliation go on as if the object were empty when
	// it does not exist. Defaults to false, which makes a missing object an
	// error.
	// +kubebuilder:default:=false
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// CommonMetadata holds labels and annotations set on every applied object.
type CommonMetadata struct {
	// Annotations set on every applied object.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels set on every applied object.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// IgnoreRule names JSON pointer paths that drift detection and apply leave
// alone, on all objects or on those matched by Target.
type IgnoreRule struct {
	// Paths are JSON pointers (RFC 6901) into the objects, e.g.
	// /spec/replicas.
	// +required
	Paths []string `json:"paths"`

	// Target limits the rule to the objects it selects. Unset means every
	// object of the Kustomization.
	// +optional
	Target *kustomize.Selector `json:"target,omitempty"`
}

// BuildMetadataOption is one kind of kustomize build metadata that can be
// kept on applied objects.
// +kubebuilder:validation:Enum=originAnnotations;transformerAnnotations
type BuildMetadataOption string

const (
	// BuildMetadataOriginAnnotations keeps the annotation that records
	// which file an object came from.
	BuildMetadataOriginAnnotations BuildMetadataOption = "originAnnotations"

	// BuildMetadataTransformerAnnotations keeps the annotation that records
	// which transformers changed an object.
	BuildMetadataTransformerAnnotations BuildMetadataOption = "transformerAnnotations"
)

const (
	// DecryptionProviderSOPS is the only supported decryption provider.
	DecryptionProviderSOPS = "sops"

	// SubstituteStrategyWithVariables runs substitution only when at least
	// one variable is defined. This is the default.
	SubstituteStrategyWithVariables = "WithVariables"

	// SubstituteStrategyAlways runs substitution even without variables.
	SubstituteStrategyAlways = "Always"

	// SubstituteKindSecret is the SubstituteReference kind for Secrets.
	SubstituteKindSecret = "Secret"

	// SubstituteKindConfigMap is the SubstituteReference kind for ConfigMaps.
	SubstituteKindConfigMap = "ConfigMap"
)

const (
	// DeletionPolicyMirrorPrune deletes the applied objects on deletion of
	// the Kustomization when spec.prune is true and orphans them otherwise.
	// This is the default.
	DeletionPolicyMirrorPrune = "MirrorPrune"

	// DeletionPolicyDelete always deletes the applied objects.
	DeletionPolicyDelete = "Delete"

	// DeletionPolicyWaitForTermination deletes the applied objects and
	// waits until they are gone before the Kustomization is released.
	DeletionPolicyWaitForTermination = "WaitForTermination"

	// DeletionPolicyOrphan always leaves the applied objects in place.
	DeletionPolicyOrphan = "Orphan"
)
