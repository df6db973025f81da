package kustomize

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/fluxcd/pkg/apis/kustomize"
)

// Options are the Flux overrides applied on top of the kustomization at the build path
// (Kustomization .spec fields of the same names), plus build policy.
type Options struct {
	// TargetNamespace sets the kustomization's namespace (overriding one it sets).
	TargetNamespace string
	// NamePrefix and NameSuffix set the kustomization's namePrefix / nameSuffix.
	NamePrefix, NameSuffix string
	// Patches are appended to the kustomization's patches: inline strategic merge or
	// JSON6902 patches, optionally with a target selector.
	Patches []kustomize.Patch
	// Images are appended to the kustomization's images.
	Images []kustomize.Image
	// Components are appended to the kustomization's components; paths are relative to
	// the build path.
	Components []string
	// IgnoreMissingComponents drops components that do not exist in the source instead of
	// failing the build.
	IgnoreMissingComponents bool
	// CommonMetadata adds labels and annotations to every object, leaving selectors and
	// pod templates alone for labels.
	CommonMetadata *CommonMetadata
	// NoRemoteBases fails the build when any kustomization refers to remote content
	// (HTTP URLs, git repositories).
	NoRemoteBases bool
	// SecretSources decrypts the files secretGenerators read before kustomize parses them;
	// nil reads them as they are. It is not part of the build cache key: SecretSourcesID is.
	SecretSources SecretSourceDecrypter `json:"-"`
	// SecretSourcesID identifies SecretSources' keys for the build cache, so that builds
	// decrypted with different keys (or none) never share a result.
	SecretSourcesID string `json:",omitempty"`
}

// CommonMetadata is the Kustomization's .spec.commonMetadata.
type CommonMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// overrides reports whether opts change the kustomization at the build path.
func (o Options) overrides() bool {
	return o.TargetNamespace != "" || o.NamePrefix != "" || o.NameSuffix != "" ||
		len(o.Patches) > 0 || len(o.Images) > 0 || len(o.Components) > 0 ||
		(o.CommonMetadata != nil && (len(o.CommonMetadata.Labels) > 0 || len(o.CommonMetadata.Annotations) > 0))
}

// hash identifies opts for the build cache. encoding/json sorts map keys, so equal options
// always hash equally.
func (o Options) hash() string {
	b, err := json.Marshal(o)
	if err != nil {
		// Unreachable (Options hold only strings, bools, slices and string maps); fmt
		// also prints maps sorted, so the fallback is deterministic too.
		b = fmt.Appendf(nil, "%#v", o)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
