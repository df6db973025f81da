package oci

// The Flux OCI artifact format: what `flux push artifact` writes and OCIRepository reads.
// These are wire constants shared with upstream Flux; source-controller's API module
// declares the same values for its users, and a test there keeps the two equal.
const (
	// URLPrefix is the scheme prefix of OCI repository addresses (oci://).
	URLPrefix = "oci://"
	// ConfigMediaType is the media type of a Flux artifact's config blob.
	ConfigMediaType = "application/vnd.cncf.flux.config.v1+json"
	// ContentMediaType is the media type of a Flux artifact's single tar+gzip layer.
	ContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"

	// SourceAnnotation names where an artifact's content came from (a Git URL).
	SourceAnnotation = "org.opencontainers.image.source"
	// RevisionAnnotation is the source revision of an artifact (e.g. main@sha1:...).
	RevisionAnnotation = "org.opencontainers.image.revision"
	// CreatedAnnotation is when an artifact was built (RFC 3339).
	CreatedAnnotation = "org.opencontainers.image.created"

	// LayerExtract unpacks the selected layer (a tar+gzip) into the artifact.
	LayerExtract = "extract"
	// LayerCopy stores the selected layer as it is.
	LayerCopy = "copy"
)
