package v1

import "github.com/fluxcd/pkg/apis/meta"

// NotificationFinalizer is the finalizer the notification-controller adds to
// the objects it reconciles.
const NotificationFinalizer = "finalizers.fluxcd.io"

// Condition reasons used by the notification APIs, in addition to the
// generic ones in github.com/fluxcd/pkg/apis/meta.
const (
	// InitializedReason means the Receiver is set up and its webhook path
	// is published in the status.
	InitializedReason string = "Initialized"

	// ValidationFailedReason means the spec failed validation, e.g. a CEL
	// expression in resourceFilter or oidcProviders does not compile.
	ValidationFailedReason string = "ValidationFailed"

	// TokenNotFoundReason means the Secret referenced by spec.secretRef, or
	// its 'token' key, could not be read.
	TokenNotFoundReason string = "TokenNotFound"

	// ProgressingReason means a reconciliation is in progress.
	ProgressingReason string = meta.ProgressingReason

	// ProgressingWithRetryReason means the last attempt failed and a retry
	// is scheduled.
	ProgressingWithRetryReason string = meta.ProgressingWithRetryReason

	// InvalidCELExpressionReason means a CEL expression in the spec does
	// not compile or does not return a boolean.
	InvalidCELExpressionReason string = meta.InvalidCELExpressionReason
)
