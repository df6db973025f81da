package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DefaultTag is the tag pulled when a Ref names nothing.
const DefaultTag = "latest"

// Ref selects an artifact in a repository, like OCIRepository's spec.ref. Digest wins over
// SemVer, which wins over Tag; an empty Ref means the "latest" tag.
type Ref struct {
	// Tag to resolve.
	Tag string
	// SemVer is a Masterminds semver range; the highest tag satisfying it is resolved.
	SemVer string
	// SemverFilter is a regular expression tags must match before SemVer applies.
	SemverFilter string
	// Digest ("sha256:<hex>") pins the artifact; no request is needed to resolve it.
	Digest string
}

// Resolved is the tag (empty for a digest pin) and manifest digest a Ref points at.
type Resolved struct {
	Tag    string
	Digest string
}

// Revision is the Flux artifact revision of r: "<tag>@sha256:<hex>" or "sha256:<hex>".
func (r Resolved) Revision() string { return Revision(r.Tag, r.Digest) }

// Revision formats an OCI artifact revision the way Flux records it in status.artifact:
// "<tag>@<digest>" ("latest@sha256:<hex>"), or just the digest when no tag was involved.
func Revision(tag, digest string) string {
	if tag == "" {
		return digest
	}
	return tag + "@" + digest
}

// ResolveRef turns ref into a manifest digest. A tag costs one HEAD request (plus the
// registry's auth handshake on a Client's first call to a repository), so polling an unchanged
// tag is cheap; a semver range costs a tag listing and one HEAD.
func (c *Client) ResolveRef(ctx context.Context, repoURL string, ref Ref) (Resolved, error) {
	repo, err := c.repository(repoURL)
	if err != nil {
		return Resolved{}, err
	}
	switch {
	case ref.Digest != "":
		if _, err := v1.NewHash(ref.Digest); err != nil {
			return Resolved{}, fmt.Errorf("invalid digest %q for %s: want sha256:<64 hex digits>", ref.Digest, repoURL)
		}
		return Resolved{Digest: ref.Digest}, nil
	case ref.SemVer != "":
		tags, err := c.puller.List(ctx, repo)
		if err != nil {
			return Resolved{}, fmt.Errorf("list tags of %s: %w", repoURL, explain(err))
		}
		tag, err := SelectSemver(tags, ref.SemVer, ref.SemverFilter)
		if err != nil {
			return Resolved{}, fmt.Errorf("%s: %w", repoURL, err)
		}
		ref.Tag = tag
	case ref.Tag == "":
		ref.Tag = DefaultTag
	}
	t, err := name.NewTag(repo.String()+":"+ref.Tag, c.nameOpts...)
	if err != nil {
		return Resolved{}, fmt.Errorf("invalid tag %q for %s: %w", ref.Tag, repoURL, err)
	}
	d, err := c.digest(ctx, t)
	if err != nil {
		return Resolved{}, fmt.Errorf("resolve tag %q of %s: %w", ref.Tag, repoURL, explain(err))
	}
	return Resolved{Tag: ref.Tag, Digest: d}, nil
}

// digest asks for the manifest digest with a HEAD request. Registries that answer HEAD without
// a Docker-Content-Digest header, or fail it, get a GET, whose error also carries the
// registry's explanation (HEAD responses have no body).
func (c *Client) digest(ctx context.Context, ref name.Reference) (string, error) {
	if desc, err := c.puller.Head(ctx, ref); err == nil {
		return desc.Digest.String(), nil
	}
	desc, err := c.puller.Get(ctx, ref)
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

// IsNotFound reports whether err says the repository, tag, manifest or blob does not exist.
func IsNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
			return true
		}
	}
	return false
}
