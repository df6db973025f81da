package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
)

// LatestTagsCount is how many tags .status.lastScanResult.latestTags shows.
const LatestTagsCount = 10

// ScanOptions tune one scan.
type ScanOptions struct {
	// ExclusionList are regular expressions (.spec.exclusionList, see
	// ImageRepository.GetExclusionList for the default); matching tags are dropped.
	ExclusionList []string
	// Timeout bounds the whole scan (.spec.timeout); zero means the context's deadline only.
	Timeout time.Duration
}

// ScanResult is what one scan found.
type ScanResult struct {
	// Image is the scanned repository.
	Image Image
	// Tags are the tags left after exclusion, in ascending lexical order, without duplicates.
	Tags []string
	// LatestTags are the first LatestTagsCount tags in descending lexical order.
	LatestTags []string
	// Revision is "sha256:<hex>" of Tags, one per line: equal revisions mean equal tag sets.
	Revision string
	// Pages is the number of tag-list requests the scan took.
	Pages int
}

// Status is the result as .status.lastScanResult, stamped with scanTime.
func (r *ScanResult) Status(scanTime time.Time) *imagev1.ScanResult {
	return &imagev1.ScanResult{
		TagCount:   len(r.Tags),
		ScanTime:   metav1.NewTime(scanTime),
		LatestTags: slices.Clone(r.LatestTags),
		Revision:   r.Revision,
	}
}

// CompileExclusionList compiles .spec.exclusionList; an invalid pattern is an error naming
// its index, which the user has to fix.
func CompileExclusionList(patterns []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, &InvalidExclusionError{Index: i, Pattern: p, Err: err}
		}
		out = append(out, re)
	}
	return out, nil
}

// InvalidExclusionError is an .spec.exclusionList entry that is not a regular expression.
type InvalidExclusionError struct {
	Index   int
	Pattern string
	Err     error
}

func (e *InvalidExclusionError) Error() string {
	return fmt.Sprintf("invalid regular expression %q in .spec.exclusionList[%d]: %v", e.Pattern, e.Index, e.Err)
}

// Scan lists every tag of img, page by page, and drops excluded tags.
func (c *Client) Scan(ctx context.Context, img Image, opts ScanOptions) (*ScanResult, error) {
	exclude, err := CompileExclusionList(opts.ExclusionList)
	if err != nil {
		return nil, err
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	lister, err := c.puller.Lister(ctx, img.Repository)
	if err != nil {
		return nil, scanError(img, err)
	}
	res := &ScanResult{Image: img}
	for lister.HasNext() {
		page, err := lister.Next(ctx)
		if err != nil {
			return nil, scanError(img, err)
		}
		res.Pages++
		for _, tag := range page.Tags {
			if !excluded(tag, exclude) {
				res.Tags = append(res.Tags, tag)
			}
		}
	}
	slices.Sort(res.Tags)
	res.Tags = slices.Compact(res.Tags)
	res.Revision = Revision(res.Tags)
	res.LatestTags = latest(res.Tags, LatestTagsCount)
	return res, nil
}

func excluded(tag string, patterns []*regexp.Regexp) bool {
	for _, re := range patterns {
		if re.MatchString(tag) {
			return true
		}
	}
	return false
}

// latest returns the last n of sorted tags, highest first.
func latest(sorted []string, n int) []string {
	out := make([]string, 0, min(n, len(sorted)))
	for i := len(sorted) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, sorted[i])
	}
	return out
}

// Revision digests tags (ascending, unique) as lines of text.
func Revision(sortedTags []string) string {
	h := sha256.New()
	for _, t := range sortedTags {
		h.Write([]byte(t))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// AuthError is a registry refusing the credentials (upstream reason AuthenticationFailed).
type AuthError struct{ err error }

func (e *AuthError) Error() string { return e.err.Error() }
func (e *AuthError) Unwrap() error { return e.err }

// IsAuthError reports whether the registry rejected the credentials.
func IsAuthError(err error) bool {
	var e *AuthError
	return errors.As(err, &e)
}

// scanError names the image and classifies authentication failures.
func scanError(img Image, err error) error {
	wrapped := fmt.Errorf("failed to list tags of %s: %w", img.Canonical, err)
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return &AuthError{err: wrapped}
	}
	return wrapped
}

// Message is the Ready condition and event message upstream Flux uses for a scan.
func (r *ScanResult) Message() string {
	return fmt.Sprintf("successful scan, found %d tags", len(r.Tags))
}
