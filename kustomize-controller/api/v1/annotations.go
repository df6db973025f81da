package v1

// Label keys the controller sets on every object it applies, naming the
// Kustomization that owns it.
const (
	// NameLabelKey holds the name of the owning Kustomization.
	NameLabelKey = "kustomize.toolkit.fluxcd.io/name"

	// NamespaceLabelKey holds the namespace of the owning Kustomization.
	NamespaceLabelKey = "kustomize.toolkit.fluxcd.io/namespace"
)

// Annotation keys users put on objects in their manifests to change how the
// controller treats those objects.
const (
	// ReconcileAnnotationKey set to DisabledValue makes the controller stop
	// updating an object that already exists in the cluster.
	ReconcileAnnotationKey = "kustomize.toolkit.fluxcd.io/reconcile"

	// PruneAnnotationKey set to DisabledValue keeps an object out of garbage
	// collection.
	PruneAnnotationKey = "kustomize.toolkit.fluxcd.io/prune"

	// SSAAnnotationKey selects the server-side apply behaviour for an
	// object: SSAMergeValue, SSAIfNotPresentValue, SSAIgnoreValue or
	// SSAOverrideValue.
	SSAAnnotationKey = "kustomize.toolkit.fluxcd.io/ssa"

	// ForceAnnotationKey set to EnabledValue makes the controller recreate
	// the object when an immutable field changed, as spec.force does for
	// all objects.
	ForceAnnotationKey = "kustomize.toolkit.fluxcd.io/force"

	// SubstituteAnnotationKey set to DisabledValue turns off variable
	// substitution for an object.
	SubstituteAnnotationKey = "kustomize.toolkit.fluxcd.io/substitute"

	// DecryptAnnotationKey set to DisabledValue leaves a SOPS-encrypted
	// object as it is, for another party to decrypt later.
	DecryptAnnotationKey = "kustomize.toolkit.fluxcd.io/decrypt"
)

// Values of the annotations above. The controller compares them without
// regard to case.
const (
	// DisabledValue turns a per-object feature off.
	DisabledValue = "disabled"

	// EnabledValue turns a per-object feature on.
	EnabledValue = "enabled"

	// SSAMergeValue merges the object's fields into the live object,
	// keeping fields managed by others.
	SSAMergeValue = "Merge"

	// SSAIfNotPresentValue creates the object only when it does not exist
	// and never updates it afterwards.
	SSAIfNotPresentValue = "IfNotPresent"

	// SSAIgnoreValue skips the object entirely during apply.
	SSAIgnoreValue = "Ignore"

	// SSAOverrideValue applies the object and takes ownership of every
	// field, the default behaviour.
	SSAOverrideValue = "Override"
)
