package fluxdiff

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
)

// fetchSource downloads the artifact of a source into a temporary directory, its digest
// checked, and returns the directory, the artifact's revision and how to remove it. The artifact URL is the
// source-controller's storage address (status.artifact.url): the caller must reach it.
func fetchSource(ctx context.Context, c client.Client, apiVersion, kind, namespace, name string) (dir, revision string, cleanup func(), err error) {
	a, err := artifact.GetSourceArtifact(ctx, c, artifact.SourceRef{APIVersion: apiVersion, Kind: kind, Namespace: namespace, Name: name})
	if err != nil {
		return "", "", nil, err
	}
	if a == nil {
		return "", "", nil, fmt.Errorf("%s/%s/%s has no artifact yet", kind, namespace, name)
	}
	dir, err = os.MkdirTemp("", "flux-diff-source-")
	if err != nil {
		return "", "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	fetcher := &artifact.Fetcher{Retries: 2, Client: &http.Client{Timeout: time.Minute}}
	if err := fetcher.Fetch(ctx, a.URL, a.Digest, dir); err != nil {
		cleanup()
		return "", "", nil, fmt.Errorf("fetch the artifact of %s/%s/%s (is its artifact server reachable from here?): %w", kind, namespace, name, err)
	}
	return dir, a.Revision, cleanup, nil
}

// sourceAPIVersion is the version a sourceRef without apiVersion means.
const sourceAPIVersion = "source.toolkit.fluxcd.io/v1"
