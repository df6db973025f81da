package v1

// CrossNamespaceObjectReference selects Flux objects of one kind, by name or
// by labels, in the same or another namespace.
type CrossNamespaceObjectReference struct {
	// APIVersion of the referenced objects. Empty means the version the
	// controller prefers.
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

// ReceiverResource selects the objects a Receiver asks to reconcile, with an
// optional CEL filter of its own.
type ReceiverResource struct {
	CrossNamespaceObjectReference `json:",inline"`

	// Filter is a CEL expression returning a boolean, evaluated for every
	// object this entry selects when a webhook arrives. The object is
	// reconciled only when both this expression and the Receiver's
	// resourceFilter (each when set) return true. The expression sees the
	// object metadata as 'res', the request body as 'req' and, for
	// 'generic-oidc' receivers, the verified token claims as 'claims'. An
	// expression that does not compile or return a boolean makes the
	// Receiver fail terminally.
	// +optional
	Filter string `json:"filter,omitempty"`
}
