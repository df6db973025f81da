package v1beta3

// CrossNamespaceObjectReference selects Flux objects of one kind, by name or
// by labels, in the same or another namespace.
type CrossNamespaceObjectReference struct {
	// APIVersion of the referenced objects. Empty means any version.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referenced objects.
	// +kubebuilder:validation:Enum=Bucket;GitRepository;Kustomization;HelmRelease;HelmChart;HelmRepository;ImageRepository;ImagePolicy;ImageUpdateAutomation;OCIRepository;ArtifactGenerator;ExternalArtifact
	// +required
	Kind string `json:"kind"`

	// Name of the referenced object, or `*` to select every object of the
	// kind (optionally narrowed by MatchLabels).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the referenced objects. Defaults to the namespace of the
	// object holding the reference.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// MatchLabels selects objects whose labels contain every given
	// key/value pair. It is only honoured when Name is `*`.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}
