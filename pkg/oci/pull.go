package oci

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"gotk.dev/pkg/tarball"
)

// LayerSelector picks the layer of an artifact to use, like OCIRepository's
// spec.layerSelector.
type LayerSelector struct {
	// MediaType selects the first layer of this media type. Empty selects the Flux content
	// layer, or the first layer when there is none (artifacts pushed by other tools).
	MediaType string
	// Operation is "extract" (default) or "copy". Pull only validates it; the caller either
	// extracts Layer (Pulled.ExtractTo) or stores it as is.
	Operation string
}

// Pulled is a fetched artifact manifest with its selected layer opened for reading.
type Pulled struct {
	// Digest is the manifest digest.
	Digest string
	// Manifest is the parsed manifest.
	Manifest *v1.Manifest
	// Annotations are the manifest annotations (source, revision, created, user keys).
	Annotations map[string]string
	// Layer streams the compressed layer. Its digest is verified when the stream reaches EOF,
	// so read it to the end; always Close it.
	Layer io.ReadCloser
	// LayerMediaType, LayerDigest and LayerSize describe the selected layer.
	LayerMediaType string
	LayerDigest    string
	LayerSize      int64
	// Operation is the selector's operation, defaulted to "extract".
	Operation string
}

// Pull fetches the manifest digest of repoURL (verified against the digest) and opens the layer
// sel selects. Tags are resolved first with ResolveRef, so the revision recorded is exactly
// what was pulled even if the tag moves meanwhile.
func (c *Client) Pull(ctx context.Context, repoURL, digest string, sel LayerSelector) (*Pulled, error) {
	op := sel.Operation
	switch op {
	case "":
		op = LayerExtract
	case LayerExtract, LayerCopy:
	default:
		return nil, fmt.Errorf("invalid layer operation %q: want %q or %q", op, LayerExtract, LayerCopy)
	}
	repo, err := c.repository(repoURL)
	if err != nil {
		return nil, err
	}
	if _, err := v1.NewHash(digest); err != nil {
		return nil, fmt.Errorf("invalid digest %q for %s: want sha256:<64 hex digits>", digest, repoURL)
	}
	where := repoURL + "@" + digest
	desc, err := c.puller.Get(ctx, repo.Digest(digest))
	if err != nil {
		return nil, fmt.Errorf("fetch manifest %s: %w", where, explain(err))
	}
	if desc.MediaType.IsIndex() {
		return nil, fmt.Errorf("%s is an image index (%s), not an artifact manifest", where, desc.MediaType)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", where, err)
	}
	layer, err := selectLayer(m.Layers, sel.MediaType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	l, err := c.puller.Layer(ctx, repo.Digest(layer.Digest.String()))
	if err != nil {
		return nil, fmt.Errorf("fetch layer %s of %s: %w", layer.Digest, where, explain(err))
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetch layer %s of %s: %w", layer.Digest, where, explain(err))
	}
	return &Pulled{
		Digest:         digest,
		Manifest:       m,
		Annotations:    m.Annotations,
		Layer:          rc,
		LayerMediaType: string(layer.MediaType),
		LayerDigest:    layer.Digest.String(),
		LayerSize:      layer.Size,
		Operation:      op,
	}, nil
}

// selectLayer returns the first layer of mediaType; without one, the Flux content layer or
// else the first layer.
func selectLayer(layers []v1.Descriptor, mediaType string) (v1.Descriptor, error) {
	if len(layers) == 0 {
		return v1.Descriptor{}, fmt.Errorf("the artifact has no layers")
	}
	want := mediaType
	if want == "" {
		want = ContentMediaType
	}
	for _, l := range layers {
		if string(l.MediaType) == want {
			return l, nil
		}
	}
	if mediaType == "" {
		return layers[0], nil
	}
	have := make([]string, len(layers))
	for i, l := range layers {
		have[i] = string(l.MediaType)
	}
	return v1.Descriptor{}, fmt.Errorf("no layer with media type %q (the artifact has: %s)", mediaType, strings.Join(have, ", "))
}

// ExtractTo unpacks the layer (a tar, gzipped or not) into dir with tarball.Extract's safety
// rules and limits, then reads the layer to its end so that its digest is verified, and closes
// it. On error dir may hold a partial tree.
func (p *Pulled) ExtractTo(dir string, opts tarball.ExtractOptions) error {
	defer p.Layer.Close()
	if err := tarball.Extract(p.Layer, dir, opts); err != nil {
		return fmt.Errorf("extract layer %s: %w", p.LayerDigest, err)
	}
	// The tar end marker may come before the end of the compressed stream.
	if _, err := io.Copy(io.Discard, p.Layer); err != nil {
		return fmt.Errorf("read layer %s: %w", p.LayerDigest, err)
	}
	return nil
}

// PullToDir resolves ref ("oci://host/repo[:tag|@digest]", default tag "latest"), pulls the
// artifact's Flux content layer (or its first layer) and extracts it into dir, for
// `flux pull artifact`. No size limit applies: the caller chose the artifact.
func (c *Client) PullToDir(ctx context.Context, ref, dir string) (ArtifactInfo, error) {
	r, err := c.reference(ref)
	if err != nil {
		return ArtifactInfo{}, err
	}
	repoURL := URLPrefix + r.Context().String()
	var res Resolved
	if d, ok := r.(name.Digest); ok {
		res = Resolved{Digest: d.DigestStr()}
	} else if res, err = c.ResolveRef(ctx, repoURL, Ref{Tag: r.Identifier()}); err != nil {
		return ArtifactInfo{}, err
	}
	p, err := c.Pull(ctx, repoURL, res.Digest, LayerSelector{})
	if err != nil {
		return ArtifactInfo{}, err
	}
	if err := p.ExtractTo(dir, tarball.ExtractOptions{}); err != nil {
		return ArtifactInfo{}, fmt.Errorf("%s@%s: %w", repoURL, res.Digest, err)
	}
	return artifactInfo(res.Tag, res.Digest, p.Annotations), nil
}
