package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Digest returns the manifest digest ("sha256:<hex>") that tag of img points at, from a HEAD
// request (a GET when the registry does not answer HEAD). For a multi-platform image it is the
// index digest, which is what a Deployment pins.
func (c *Client) Digest(ctx context.Context, img Image, tag string) (string, error) {
	ref := img.Repository.Tag(tag)
	desc, err := c.puller.Head(ctx, ref)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusMethodNotAllowed {
			got, getErr := c.puller.Get(ctx, ref)
			if getErr == nil {
				return got.Digest.String(), nil
			}
			err = getErr
		}
		wrapped := fmt.Errorf("failed to fetch the digest of %s:%s: %w", img.Canonical, tag, err)
		if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
			return "", &AuthError{err: wrapped}
		}
		return "", wrapped
	}
	return desc.Digest.String(), nil
}
