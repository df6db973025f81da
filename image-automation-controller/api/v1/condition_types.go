package v1

// ImageUpdateAutomationFinalizer is the finalizer the
// image-automation-controller puts on ImageUpdateAutomation objects so it
// can clean up (metrics, events) before they are deleted.
const ImageUpdateAutomationFinalizer = "finalizers.fluxcd.io"

// Condition reasons set by the image-automation-controller. The generic
// reasons (Succeeded, Progressing, DependencyNotReady, ...) and the Ready,
// Reconciling and Stalled condition types come from
// github.com/fluxcd/pkg/apis/meta.
const (
	// InvalidUpdateStrategyReason means spec.update names a strategy the
	// controller does not implement.
	InvalidUpdateStrategyReason string = "InvalidUpdateStrategy"

	// InvalidSourceConfigReason means spec.sourceRef or spec.git cannot be
	// used as given (wrong kind, cross-namespace reference not allowed,
	// missing checkout reference, ...).
	InvalidSourceConfigReason string = "InvalidSourceConfiguration"

	// SourceManagerFailedReason means preparing access to the Git source
	// (credentials, proxy, signing key, clone directory) failed.
	SourceManagerFailedReason string = "SourceManagerFailed"

	// GitOperationFailedReason means a clone, checkout, commit or push
	// against the Git repository failed.
	GitOperationFailedReason string = "GitOperationFailed"

	// UpdateFailedReason means rewriting the manifests with the latest
	// images failed.
	UpdateFailedReason string = "UpdateFailed"

	// InvalidPolicySelectorReason means spec.policySelector is not a valid
	// label selector.
	InvalidPolicySelectorReason string = "InvalidPolicySelector"

	// RemovedTemplateFieldReason means the commit message template uses a
	// field that no longer exists (`.Updated`; use `.Changed`).
	RemovedTemplateFieldReason string = "RemovedTemplateField"
)
