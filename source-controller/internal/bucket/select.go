package bucket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"gotk.dev/pkg/sourceignore"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket/provider"
)

// maxIgnoreFileSize caps the .sourceignore object read into memory.
const maxIgnoreFileSize = 1 << 20

// Index checks that the bucket exists, reads its root .sourceignore object, lists the objects
// under spec.prefix and returns those the ignore rules select. Directory placeholder keys
// (ending in "/") and the .sourceignore object itself are never selected. A selected key that
// is not a safe relative path fails the whole index with an error naming it.
//
// Ignore rules, lowest priority first (pkg/sourceignore): the VCS patterns; the default
// exclusions unless spec.ignore is set; the .sourceignore object; spec.ignore. Patterns match
// the full object key, prefix included, as the objects land in the artifact under their keys.
func (c *Client) Index(ctx context.Context) (*Index, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	ok, err := c.p.BucketExists(ctx)
	if err != nil {
		return nil, c.fail("checking that the bucket exists", err)
	}
	if !ok {
		return nil, &Error{Reason: sourcev1.BucketOperationFailedReason, Err: fmt.Errorf("%s %w", c.cfg.where(), ErrBucketNotFound)}
	}
	matcher, err := c.ignoreMatcher(ctx)
	if err != nil {
		return nil, err
	}
	idx := NewIndex()
	err = c.p.List(ctx, c.cfg.Prefix, func(o provider.Object) error {
		if strings.HasSuffix(o.Key, "/") || o.Key == sourceignore.IgnoreFile {
			return nil
		}
		if matcher.Match(strings.Split(o.Key, "/"), false) {
			return nil
		}
		if err := ValidateKey(o.Key); err != nil {
			return err // ends the listing
		}
		idx.add(o)
		return nil
	})
	if err != nil {
		return nil, c.fail("listing objects", err)
	}
	return idx, nil
}

// ignoreMatcher builds the matcher from the bucket's .sourceignore object (if any) and
// spec.ignore. Match reports exclusion.
func (c *Client) ignoreMatcher(ctx context.Context) (gitignore.Matcher, error) {
	var buf bytes.Buffer
	err := c.p.Download(ctx, sourceignore.IgnoreFile, &limitedWriter{w: &buf, n: maxIgnoreFileSize, key: sourceignore.IgnoreFile})
	var fromFile []gitignore.Pattern
	switch {
	case errors.Is(err, provider.ErrObjectNotFound):
	case err != nil:
		return nil, c.fail(fmt.Sprintf("reading the '%s' object", sourceignore.IgnoreFile), err)
	default:
		ps, rerr := sourceignore.Read(&buf, sourceignore.IgnoreFile, nil)
		if rerr != nil {
			return nil, c.fail(fmt.Sprintf("reading the '%s' object", sourceignore.IgnoreFile), rerr)
		}
		fromFile = ps
	}
	return gitignore.NewMatcher(sourceignore.Rules(c.cfg.Ignore, fromFile)), nil
}
