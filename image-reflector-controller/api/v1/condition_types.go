package v1

// ImageFinalizer is the finalizer the image-reflector-controller puts on
// ImageRepository and ImagePolicy objects so that it can release what it
// holds for them (scan results in its tag database) before they are deleted.
const ImageFinalizer = "finalizers.fluxcd.io"

// Condition reasons set by the image-reflector-controller. The generic
// reasons (Succeeded, Progressing, ...) and the Ready, Reconciling and
// Stalled condition types come from github.com/fluxcd/pkg/apis/meta.
const (
	// ImageURLInvalidReason means spec.image of an ImageRepository cannot be
	// parsed as an image repository name (for example it carries a URL
	// scheme); the user has to fix the spec.
	ImageURLInvalidReason string = "ImageURLInvalid"

	// DependencyNotReadyReason means an object this one relies on (for an
	// ImagePolicy: its ImageRepository) has no usable result yet.
	DependencyNotReadyReason string = "DependencyNotReady"

	// AuthenticationFailedReason means the registry credentials could not be
	// assembled (missing or malformed Secret, cloud provider login failed) or
	// were rejected by the registry.
	AuthenticationFailedReason string = "AuthenticationFailed"

	// ReadOperationFailedReason means reading data the reconciliation needs
	// (for example the scanned tags from the database) failed.
	ReadOperationFailedReason string = "ReadOperationFailed"

	// IntervalNotConfiguredReason means an interval is required for the
	// requested behaviour but none is set.
	IntervalNotConfiguredReason string = "IntervalNotConfigured"
)
