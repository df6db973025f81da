package v1

// SourceFinalizer is the finalizer source-controller adds to every object it
// manages, so it can garbage collect the stored Artifacts before the object
// is removed.
const SourceFinalizer = "finalizers.fluxcd.io"

// Condition types set by source-controller in addition to the generic
// Ready, Reconciling and Stalled conditions from the meta package.
const (
	// ArtifactOutdatedCondition is True when the upstream source has a
	// revision (or the spec a configuration) that differs from the Artifact
	// currently in storage, i.e. a new Artifact is about to be produced.
	ArtifactOutdatedCondition string = "ArtifactOutdated"

	// SourceVerifiedCondition reports the result of the signature
	// verification of the upstream source (Git commit/tag, OCI artifact, Helm
	// chart). It is only present when verification is configured.
	SourceVerifiedCondition string = "SourceVerified"

	// FetchFailedCondition is True when the upstream source could not be
	// fetched, e.g. because it was unreachable or authentication failed.
	FetchFailedCondition string = "FetchFailed"

	// BuildFailedCondition is True when the fetched content could not be
	// turned into an Artifact, e.g. a Helm chart failed to package.
	BuildFailedCondition string = "BuildFailed"

	// StorageOperationFailedCondition is True when writing, archiving or
	// garbage collecting Artifacts in the local storage failed.
	StorageOperationFailedCondition string = "StorageOperationFailed"

	// ArtifactInStorageCondition is True when the Artifact recorded in the
	// status exists in the local storage and can be served.
	ArtifactInStorageCondition string = "ArtifactInStorage"

	// IncludeUnavailableCondition is True when one of the GitRepository
	// objects listed in spec.include is missing or has no Artifact yet.
	IncludeUnavailableCondition string = "IncludeUnavailable"
)

// Condition reasons shared by the source kinds.
const (
	// NewArtifactReason signals that a new Artifact is being produced.
	NewArtifactReason string = "NewArtifact"

	// NewRevisionReason signals that the upstream source advertises a revision
	// different from the one of the stored Artifact.
	NewRevisionReason string = "NewRevision"

	// ArtifactUpToDateReason signals that the stored Artifact already matches
	// the upstream revision, so nothing new was produced.
	ArtifactUpToDateReason string = "ArtifactUpToDate"

	// URLInvalidReason signals that the URL in the spec could not be parsed
	// or uses an unsupported scheme.
	URLInvalidReason string = "URLInvalid"

	// AuthenticationFailedReason signals that the credentials referenced by
	// the object could not be read or were rejected.
	AuthenticationFailedReason string = "AuthenticationFailed"

	// VerificationError signals that the signature verification of the
	// upstream source failed.
	VerificationError string = "VerificationError"

	// DirCreationFailedReason signals that a directory in the local storage
	// could not be created.
	DirCreationFailedReason string = "DirectoryCreationFailed"

	// StatOperationFailedReason signals that a file in the local storage
	// could not be inspected.
	StatOperationFailedReason string = "StatOperationFailed"

	// ReadOperationFailedReason signals that a file could not be read.
	ReadOperationFailedReason string = "ReadOperationFailed"

	// AcquireLockFailedReason signals that the lock guarding an Artifact in
	// the local storage could not be taken.
	AcquireLockFailedReason string = "AcquireLockFailed"

	// InvalidPathReason signals that a path given in the spec is not valid.
	InvalidPathReason string = "InvalidPath"

	// ArchiveOperationFailedReason signals that the content could not be
	// packed into the Artifact tarball.
	ArchiveOperationFailedReason string = "ArchiveOperationFailed"

	// SymlinkUpdateFailedReason signals that the "latest" link of an
	// Artifact in the local storage could not be updated.
	SymlinkUpdateFailedReason string = "SymlinkUpdateFailed"

	// CacheOperationFailedReason signals that an in-memory cache operation
	// failed.
	CacheOperationFailedReason string = "CacheOperationFailed"

	// PatchOperationFailedReason signals that the object could not be
	// patched in the API server.
	PatchOperationFailedReason string = "PatchOperationFailed"

	// InvalidSTSConfigurationReason signals that spec.sts of a Bucket cannot
	// be used with its provider.
	InvalidSTSConfigurationReason string = "InvalidSTSConfiguration"

	// InvalidProviderConfigurationReason signals that the provider settings
	// in the spec are inconsistent.
	InvalidProviderConfigurationReason string = "InvalidProviderConfiguration"
)

// Condition reasons specific to one source kind.
const (
	// GitOperationSucceedReason signals that a Git operation (clone,
	// checkout) completed.
	GitOperationSucceedReason string = "GitOperationSucceed"

	// GitOperationFailedReason signals that a Git operation (clone,
	// checkout) failed.
	GitOperationFailedReason string = "GitOperationFailed"

	// OCIPullFailedReason signals that pulling an OCI artifact failed.
	OCIPullFailedReason string = "OCIArtifactPullFailed"

	// OCILayerOperationFailedReason signals that the selected layer of an OCI
	// artifact could not be extracted or copied.
	OCILayerOperationFailedReason string = "OCIArtifactLayerOperationFailed"

	// IndexationFailedReason signals that a Helm repository index could not
	// be downloaded or parsed.
	IndexationFailedReason string = "IndexationFailed"

	// IndexationSucceededReason signals that a Helm repository index was
	// downloaded and parsed.
	IndexationSucceededReason string = "IndexationSucceed"

	// ChartPullFailedReason signals that a Helm chart could not be pulled
	// from its repository.
	ChartPullFailedReason string = "ChartPullFailed"

	// ChartPullSucceededReason signals that a Helm chart was pulled from its
	// repository.
	ChartPullSucceededReason string = "ChartPullSucceeded"

	// ChartPackageFailedReason signals that a Helm chart could not be
	// packaged from the source it lives in.
	ChartPackageFailedReason string = "ChartPackageFailed"

	// ChartPackageSucceededReason signals that a Helm chart was packaged
	// from the source it lives in.
	ChartPackageSucceededReason string = "ChartPackageSucceeded"

	// BucketOperationSucceededReason signals that listing or downloading the
	// objects of a bucket completed.
	BucketOperationSucceededReason string = "BucketOperationSucceeded"

	// BucketOperationFailedReason signals that listing or downloading the
	// objects of a bucket failed.
	BucketOperationFailedReason string = "BucketOperationFailed"
)
