package oci

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// listConcurrency bounds the manifest requests List runs at once.
const listConcurrency = 4

// ArtifactInfo describes one tagged artifact, for `flux list artifacts` and `flux pull
// artifact`. Source, Revision and Created come from the manifest annotations and are empty for
// artifacts that lack them (or for tags pointing at image indexes).
type ArtifactInfo struct {
	Tag      string
	Digest   string
	Source   string
	Revision string
	Created  string
}

// List returns every tag of repoURL with its manifest digest and Flux metadata, sorted by tag.
// It costs a tag listing plus one manifest request per tag.
func (c *Client) List(ctx context.Context, repoURL string) ([]ArtifactInfo, error) {
	repo, err := c.repository(repoURL)
	if err != nil {
		return nil, err
	}
	tags, err := c.puller.List(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repoURL, explain(err))
	}
	sort.Strings(tags)
	out := make([]ArtifactInfo, len(tags))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for i, tag := range tags {
		g.Go(func() error {
			desc, err := c.puller.Get(gctx, repo.Tag(tag))
			if err != nil {
				return fmt.Errorf("fetch manifest %s:%s: %w", repoURL, tag, explain(err))
			}
			var ann map[string]string
			if desc.MediaType.IsImage() {
				if m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest)); err == nil {
					ann = m.Annotations
				}
			}
			out[i] = artifactInfo(tag, desc.Digest.String(), ann)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func artifactInfo(tag, digest string, ann map[string]string) ArtifactInfo {
	return ArtifactInfo{
		Tag:      tag,
		Digest:   digest,
		Source:   ann[SourceAnnotation],
		Revision: ann[RevisionAnnotation],
		Created:  ann[CreatedAnnotation],
	}
}
