package artifact

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"gotk.dev/pkg/options"
	"gotk.dev/pkg/redact"
	"gotk.dev/pkg/tarball"
)

// DefaultRetries is the default of the controllers' --http-retry flag.
const DefaultRetries = 9

// Fetcher downloads artifacts served by a source controller, verifies them and extracts
// them. The zero value works: no retries, http.DefaultClient, no limits.
type Fetcher struct {
	// Retries is how often a failed download is retried (--http-retry, DefaultRetries).
	Retries int
	// Client performs the requests; nil means http.DefaultClient.
	Client *http.Client
	// MaxSize caps the downloaded (compressed) bytes; 0 means unlimited.
	MaxSize int64
	// Limits bound the extracted tree (uncompressed size, file count, file size).
	Limits tarball.ExtractOptions
	// RetryWaitMin and RetryWaitMax bound the exponential backoff (default 1s and 30s).
	RetryWaitMin, RetryWaitMax time.Duration
	// TempDir holds downloads until verified; "" means os.TempDir().
	TempDir string
}

// NewFetcher returns the Fetcher of a consumer's flags: --http-retry and --artifact-max-size
// (which bounds both the download and the extracted tree), with an HTTP client timing out
// after timeout.
func NewFetcher(o options.HTTPFetch, timeout time.Duration) *Fetcher {
	return &Fetcher{
		Retries: o.Retries,
		Client:  &http.Client{Timeout: timeout},
		MaxSize: o.MaxArtifactSize,
		Limits:  tarball.ExtractOptions{MaxSize: o.MaxArtifactSize},
	}
}

// Fetch downloads the artifact at artifactURL, checks it against digest
// ("<algorithm>:<hex>", sha256/384/512) while streaming it to a temporary file, and
// extracts it into destDir. Connection errors, 5xx, 429 and 404 (the source may not have
// written the artifact yet) are retried with backoff. Nothing is extracted unless the
// digest matches. destDir should be a fresh directory: on an extraction error it may hold
// a partial tree, which the caller removes.
func (f *Fetcher) Fetch(ctx context.Context, artifactURL, digest, destDir string) error {
	shown := redact.URL(artifactURL)
	algo, want, err := ParseDigest(digest)
	if err != nil {
		return fmt.Errorf("artifact %s: %w", shown, err)
	}
	tmp, err := f.download(ctx, artifactURL, shown, algo, want)
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if err := tarball.Extract(tmp, destDir, f.Limits); err != nil {
		return fmt.Errorf("extracting artifact %s: %w", shown, err)
	}
	return nil
}

// download streams the artifact into a temporary file while hashing it and returns the
// file positioned at its start.
func (f *Fetcher) download(ctx context.Context, rawURL, shown, algo, want string) (*os.File, error) {
	attempts := 0
	rc := &retryablehttp.Client{
		HTTPClient:   f.Client,
		RetryWaitMin: f.RetryWaitMin,
		RetryWaitMax: f.RetryWaitMax,
		RetryMax:     max(f.Retries, 0),
		CheckRetry:   retryPolicy,
		Backoff:      retryablehttp.DefaultBackoff,
		ErrorHandler: func(resp *http.Response, err error, n int) (*http.Response, error) {
			attempts = n
			return resp, err
		},
	}
	if rc.HTTPClient == nil {
		rc.HTTPClient = http.DefaultClient
	}
	if rc.RetryWaitMin <= 0 {
		rc.RetryWaitMin = time.Second
	}
	if rc.RetryWaitMax < rc.RetryWaitMin {
		rc.RetryWaitMax = max(30*time.Second, rc.RetryWaitMin)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: invalid request: %w", shown, redact.Error(err))
	}
	resp, err := rc.Do(req)
	if err != nil {
		if attempts > 0 {
			return nil, fmt.Errorf("fetching artifact %s failed after %d attempts: %w", shown, attempts, redact.Error(err))
		}
		return nil, fmt.Errorf("fetching artifact %s: %w", shown, redact.Error(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if attempts > 0 {
			return nil, fmt.Errorf("fetching artifact %s failed after %d attempts: %s", shown, attempts, resp.Status)
		}
		return nil, fmt.Errorf("fetching artifact %s: %s", shown, resp.Status)
	}
	if f.MaxSize > 0 && resp.ContentLength > f.MaxSize {
		return nil, fmt.Errorf("artifact %s is %d bytes, over the size limit of %d bytes", shown, resp.ContentLength, f.MaxSize)
	}
	h, err := newHash(algo)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(f.TempDir, "artifact-*")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var body io.Reader = resp.Body
	if f.MaxSize > 0 {
		body = io.LimitReader(resp.Body, f.MaxSize+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), body)
	if err != nil {
		return nil, fmt.Errorf("downloading artifact %s: %w", shown, redact.Error(err))
	}
	if f.MaxSize > 0 && n > f.MaxSize {
		return nil, fmt.Errorf("artifact %s exceeds the size limit of %d bytes", shown, f.MaxSize)
	}
	if got := hexOf(h); got != want {
		return nil, fmt.Errorf("artifact %s: digest mismatch: expected %s:%s, got %s:%s", shown, algo, want, algo, got)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ok = true
	return tmp, nil
}

// retryPolicy is retryablehttp's default (connection errors, 429, 5xx) plus 404: a
// consumer can see a new artifact URL before the source controller has finished writing
// or its status update raced ahead of the storage.
func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err == nil && resp != nil && resp.StatusCode == http.StatusNotFound {
		return true, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}
