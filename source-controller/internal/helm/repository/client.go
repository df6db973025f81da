package repository

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"helm.sh/helm/v3/pkg/repo"

	"gotk.dev/source-controller/internal/helm"
)

// Client downloads the index and charts of one HTTP(S) Helm repository. It is safe for
// concurrent use. Close releases its idle connections.
type Client struct {
	opts      ClientOptions
	base      *url.URL
	transport *http.Transport
	http      *http.Client
}

// NewClient validates opts and builds a Client.
func NewClient(opts ClientOptions) (*Client, error) {
	base, err := parseRepositoryURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	opts.Limits = opts.Limits.WithDefaults()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if opts.TLSConfig != nil {
		tr.TLSClientConfig = opts.TLSConfig.Clone()
	}
	if opts.ProxyURL != nil {
		tr.Proxy = http.ProxyURL(opts.ProxyURL)
	}
	return &Client{
		opts:      opts,
		base:      base,
		transport: tr,
		http:      &http.Client{Transport: tr},
	}, nil
}

// URL is the repository URL the client was built for.
func (c *Client) URL() string { return c.opts.URL }

// Close releases idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// FetchIndex downloads index.yaml, bounded by Limits.MaxIndexSize, and returns it parsed and
// normalised (see Index).
func (c *Client) FetchIndex(ctx context.Context) (*Index, error) {
	u, err := indexURL(c.opts.URL)
	if err != nil {
		return nil, &URLError{URL: c.opts.URL, Reason: err.Error()}
	}
	raw, err := c.get(ctx, u, c.opts.Limits.MaxIndexSize, "index "+u, helm.FlagMaxIndexSize)
	if err != nil {
		return nil, err
	}
	return BuildIndex(raw, u)
}

// ChartURL resolves the first download URL of an index entry against the repository URL
// (index entries may be relative), as helm does.
func (c *Client) ChartURL(cv *repo.ChartVersion) (string, error) {
	if cv == nil || len(cv.URLs) == 0 {
		name := ""
		if cv != nil && cv.Metadata != nil {
			name = cv.Name + " " + cv.Version
		}
		return "", fmt.Errorf("chart '%s' has no download URL in the index", name)
	}
	u, err := repo.ResolveReferenceURL(c.opts.URL, cv.URLs[0])
	if err != nil {
		return "", fmt.Errorf("chart '%s' version '%s': invalid download URL: %w", cv.Name, cv.Version, err)
	}
	return u, nil
}

// DownloadChart downloads the archive of an index entry, bounded by Limits.MaxChartSize.
// Credentials go along only to the repository host, unless PassCredentials is set.
func (c *Client) DownloadChart(ctx context.Context, cv *repo.ChartVersion) ([]byte, error) {
	u, err := c.ChartURL(cv)
	if err != nil {
		return nil, err
	}
	return c.get(ctx, u, c.opts.Limits.MaxChartSize, fmt.Sprintf("chart '%s' version '%s'", cv.Name, cv.Version), helm.FlagMaxChartSize)
}

// get fetches rawURL into memory, refusing bodies over limit (what and flag name the limit).
func (c *Client) get(ctx context.Context, rawURL string, limit int64, what, flag string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &URLError{URL: redact(rawURL), Reason: "cannot be requested"}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, &URLError{URL: req.URL.Redacted(), Reason: fmt.Sprintf("scheme %q is not supported", req.URL.Scheme)}
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if c.sendCredentials(req.URL) {
		req.SetBasicAuth(c.opts.Username, c.opts.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error carries the request URL; ours never has credentials in it.
		return nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, &StatusError{URL: req.URL.Redacted(), StatusCode: resp.StatusCode, Status: resp.Status, SentCredentials: c.sendCredentials(req.URL)}
	}
	if resp.ContentLength > limit {
		return nil, &helm.LimitError{What: what, Limit: limit, Flag: flag}
	}
	data, err := readLimited(resp.Body, limit, what, flag)
	if err != nil {
		var le *helm.LimitError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)
	}
	return data, nil
}

// sendCredentials applies helm's rule: credentials go to the host of the repository URL
// (same host and port), to any host only with PassCredentials.
func (c *Client) sendCredentials(target *url.URL) bool {
	if c.opts.Username == "" && c.opts.Password == "" {
		return false
	}
	return c.opts.PassCredentials || strings.EqualFold(target.Host, c.base.Host)
}

// unwrapURLError drops the *url.Error wrapper (its message repeats method and URL).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// StatusError is a non-200 answer from the repository server.
type StatusError struct {
	URL             string
	StatusCode      int
	Status          string
	SentCredentials bool
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("GET %s: %s", e.URL, e.Status)
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		if e.SentCredentials {
			msg += " (authentication failed: the credentials in spec.secretRef were rejected)"
		} else {
			msg += " (authentication required: no credentials were sent to this host; set spec.secretRef, and spec.passCredentials if the charts are on another host)"
		}
	case http.StatusNotFound:
		msg += " (not found: check the URL)"
	}
	return msg
}

// IsAuthError reports whether err is a 401 or 403 from the repository server (condition
// reason AuthenticationFailed).
func IsAuthError(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.StatusCode == http.StatusUnauthorized || se.StatusCode == http.StatusForbidden)
}
