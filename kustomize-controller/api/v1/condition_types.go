package v1

import "github.com/fluxcd/pkg/apis/meta"

const (
	// KustomizationFinalizer is the finalizer the controller adds to every
	// Kustomization so it can garbage collect the applied objects.
	KustomizationFinalizer = "finalizers.fluxcd.io"

	// MaxConditionMessageLength is the longest condition message the
	// controller writes; longer messages are truncated.
	MaxConditionMessageLength = 20000
)

// Condition types set on a Kustomization in addition to the generic Ready,
// Reconciling and Stalled conditions.
const (
	// HealthyCondition records the outcome of the last health assessment of
	// the applied objects.
	HealthyCondition string = meta.HealthyCondition
)

// Condition reasons used by the Kustomization API.
const (
	// ArtifactFailedReason means the source artifact could not be fetched
	// or extracted.
	ArtifactFailedReason string = meta.ArtifactFailedReason

	// BuildFailedReason means kustomize build, decryption or variable
	// substitution failed.
	BuildFailedReason string = meta.BuildFailedReason

	// HealthCheckFailedReason means at least one applied object did not
	// become healthy within the timeout.
	HealthCheckFailedReason string = meta.HealthCheckFailedReason

	// HealthCheckCanceledReason means the health assessment was cancelled
	// before it finished, e.g. because a newer revision arrived.
	HealthCheckCanceledReason string = meta.HealthCheckCanceledReason

	// DependencyNotReadyReason means a Kustomization listed in
	// spec.dependsOn is not ready yet.
	DependencyNotReadyReason string = meta.DependencyNotReadyReason

	// ReconciliationSucceededReason means the revision was applied and,
	// when requested, found healthy.
	ReconciliationSucceededReason string = meta.ReconciliationSucceededReason

	// ReconciliationFailedReason means applying the revision failed.
	ReconciliationFailedReason string = meta.ReconciliationFailedReason

	// PruneFailedReason means garbage collection of stale objects failed.
	PruneFailedReason string = meta.PruneFailedReason

	// ProgressingReason means a reconciliation is in progress.
	ProgressingReason string = meta.ProgressingReason

	// ProgressingWithRetryReason means the last attempt failed and a retry
	// is scheduled.
	ProgressingWithRetryReason string = meta.ProgressingWithRetryReason

	// InvalidCELExpressionReason means a CEL expression in the spec (health
	// check or dependency readiness) does not compile.
	InvalidCELExpressionReason string = meta.InvalidCELExpressionReason
)
