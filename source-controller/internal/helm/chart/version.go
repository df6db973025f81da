package chart

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	sourcev1 "gotk.dev/source-controller/api/v1"
)

// shortRevisionLen is how much of a source revision's hex goes into chart version metadata:
// chart versions end up in label values (63 characters at most), and 12 hex digits of a
// commit are unique in practice.
const shortRevisionLen = 12

// MetadataOptions are the inputs of VersionMetadata, straight from the HelmChart and its
// source.
type MetadataOptions struct {
	// SourceKind is spec.sourceRef.kind.
	SourceKind string
	// ReconcileStrategy is spec.reconcileStrategy.
	ReconcileStrategy string
	// SourceRevision is the source artifact revision ("main@sha1:<hex>", "sha256:<hex>").
	SourceRevision string
	// ValuesFiles is spec.valuesFiles.
	ValuesFiles []string
	// Generation is the HelmChart's metadata.generation.
	Generation int64
}

// VersionMetadata returns the SemVer build metadata upstream source-controller appends to the
// chart version, so consumers notice changes the chart version alone does not show:
//   - a GitRepository or Bucket source with reconcileStrategy Revision adds the first 12 hex
//     digits of the source revision ("6.0.3+4e5cbb7b97d0");
//   - values files add the HelmChart generation ("6.0.3+1", or "6.0.3+4e5cbb7b97d0.1").
//
// It returns "" when the version stays as the chart has it.
func VersionMetadata(o MetadataOptions) string {
	var meta string
	if o.ReconcileStrategy == sourcev1.ReconcileStrategyRevision &&
		(o.SourceKind == sourcev1.GitRepositoryKind || o.SourceKind == sourcev1.BucketKind) {
		meta = ShortRevision(o.SourceRevision)
	}
	if len(EffectiveValuesFiles(o.ValuesFiles)) > 0 {
		if meta != "" {
			meta += "."
		}
		meta += strconv.FormatInt(o.Generation, 10)
	}
	return meta
}

// ShortRevision returns the first 12 characters of the digest in a source revision:
// "main@sha1:<hex>", "sha1:<hex>", "sha256:<hex>" and the legacy "main/<hex>" all give the
// hex.
func ShortRevision(revision string) string {
	r := revision
	if i := strings.LastIndex(r, "@"); i >= 0 {
		r = r[i+1:]
	}
	if i := strings.LastIndex(r, ":"); i >= 0 {
		r = r[i+1:]
	}
	if i := strings.LastIndex(r, "/"); i >= 0 {
		r = r[i+1:]
	}
	if len(r) > shortRevisionLen {
		r = r[:shortRevisionLen]
	}
	return r
}

// withMetadata sets the build metadata of a chart version (replacing any it had).
func withMetadata(version, metadata string) (string, error) {
	if metadata == "" {
		return version, nil
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return "", fmt.Errorf("chart version '%s' is not SemVer: %w", version, err)
	}
	nv, err := v.SetMetadata(metadata)
	if err != nil {
		return "", fmt.Errorf("cannot set build metadata '%s' on chart version '%s': %w", metadata, version, err)
	}
	return nv.String(), nil
}
