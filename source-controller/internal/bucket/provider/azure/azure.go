// Package azure reads Azure Blob Storage containers (the "azure" provider) with the Azure SDK
// for Go (azblob). spec.bucketName is the container, spec.endpoint the storage account's blob
// service address.
package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"gotk.dev/source-controller/internal/bucket/provider"
)

// Client is a provider.Provider over azblob, bound to one container.
type Client struct {
	container *container.Client
	transport *http.Transport
}

var _ provider.Provider = (*Client)(nil)

// New returns a client for the container opts.Bucket of the account at opts.Endpoint,
// authenticated as the Secret says (see credentialFor) or, without a Secret, through the
// environment, workload identity and managed identity chain.
func New(opts provider.Options) (*Client, error) {
	serviceURL, account, err := parseEndpoint(opts.Endpoint, opts.Insecure)
	if err != nil {
		return nil, err
	}
	transport := opts.Transport()
	if opts.Timeout > 0 {
		transport.ResponseHeaderTimeout = opts.Timeout
	}
	clientOpts := azcore.ClientOptions{
		Transport: &http.Client{Transport: transport},
		// A failing endpoint should fail the reconcile quickly; the controller retries.
		Retry: policy.RetryOptions{MaxRetries: 2},
		// Plain HTTP is only reachable with spec.insecure; bearer tokens over it are the
		// user's explicit choice (emulators, private networks).
		InsecureAllowCredentialWithHTTP: opts.Insecure,
	}
	var cred credential
	switch id := opts.Identity; {
	case id != nil && id.Azure == nil:
		return nil, errors.New("the service account's identity has no Azure credential")
	case id != nil:
		cred = credential{token: id.Azure}
	default:
		if cred, err = credentialFor(opts.Secret, account, clientOpts); err != nil {
			return nil, err
		}
	}
	blobOpts := &azblob.ClientOptions{ClientOptions: clientOpts}
	var svc *azblob.Client
	switch {
	case cred.sas != "":
		u, err := withSAS(serviceURL, cred.sas)
		if err != nil {
			return nil, err
		}
		svc, err = azblob.NewClientWithNoCredential(u, blobOpts)
		if err != nil {
			return nil, err
		}
	case cred.sharedKey != nil:
		svc, err = azblob.NewClientWithSharedKeyCredential(serviceURL, cred.sharedKey, blobOpts)
	case cred.token != nil:
		svc, err = azblob.NewClient(serviceURL, cred.token, blobOpts)
	default:
		svc, err = azblob.NewClientWithNoCredential(serviceURL, blobOpts)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the Azure Blob Storage client: %w", err)
	}
	return &Client{
		container: svc.ServiceClient().NewContainerClient(opts.Bucket),
		transport: transport,
	}, nil
}

// parseEndpoint returns the blob service URL and the storage account name. The account is the
// first label of the host (https://<account>.blob.core.windows.net) or, for an IP address or
// localhost (Azurite, private endpoints addressed by IP), the first path segment
// (http://127.0.0.1:10000/<account>).
func parseEndpoint(endpoint string, insecure bool) (serviceURL, account string, err error) {
	raw := endpoint
	if !strings.Contains(raw, "://") {
		scheme := "https://"
		if insecure {
			scheme = "http://"
		}
		raw = scheme + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("invalid endpoint %q: want https://<account>.blob.core.windows.net", endpoint)
	}
	if u.User != nil {
		return "", "", errors.New("invalid endpoint: credentials in the URL are not supported, use spec.secretRef")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecure {
			return "", "", errors.New("endpoint uses http:// but spec.insecure is not true")
		}
	default:
		return "", "", fmt.Errorf("invalid endpoint %q: unsupported scheme %q", endpoint, u.Scheme)
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil || host == "localhost" {
		account, _, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	} else {
		account, _, _ = strings.Cut(host, ".")
	}
	if account == "" {
		return "", "", fmt.Errorf("invalid endpoint %q: no storage account name in it", endpoint)
	}
	return u.String(), account, nil
}

// withSAS merges the SAS token's query into the service URL; the token's values win.
func withSAS(serviceURL, sas string) (string, error) {
	u, err := url.Parse(serviceURL)
	if err != nil {
		return "", err
	}
	token, err := url.ParseQuery(strings.TrimPrefix(strings.TrimSpace(sas), "?"))
	if err != nil {
		return "", fmt.Errorf("invalid secret: '%s' is not a SAS token query string", SASKeyKey)
	}
	q := u.Query()
	for k, vs := range token {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// BucketExists lists at most one blob: unlike reading the container's properties, that needs
// only the List permission a container-level SAS token grants.
func (c *Client) BucketExists(ctx context.Context) (bool, error) {
	one := int32(1)
	_, err := c.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{MaxResults: &one}).NextPage(ctx)
	if bloberror.HasCode(err, bloberror.ContainerNotFound, bloberror.ResourceNotFound) {
		return false, nil
	}
	if err != nil {
		return false, condense(err)
	}
	return true, nil
}

// List pages through the blobs below prefix.
func (c *Client) List(ctx context.Context, prefix string, fn func(provider.Object) error) error {
	opts := &container.ListBlobsFlatOptions{}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	pager := c.container.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return condense(err)
		}
		for _, item := range page.Segment.BlobItems {
			if item == nil || item.Name == nil {
				continue
			}
			obj := provider.Object{Key: *item.Name}
			if p := item.Properties; p != nil {
				if p.ETag != nil {
					obj.ETag = string(*p.ETag)
				}
				if p.ContentLength != nil {
					obj.Size = *p.ContentLength
				}
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// Download streams the blob into w.
func (c *Client) Download(ctx context.Context, key string, w io.Writer) error {
	resp, err := c.container.NewBlobClient(key).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ResourceNotFound) {
		return fmt.Errorf("%w: %w", provider.ErrObjectNotFound, err)
	}
	if err != nil {
		return condense(err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// responseError is an azcore.ResponseError in one line: the SDK's own message spans a dozen
// lines with the raw response body, unreadable in a Bucket condition.
type responseError struct {
	msg string
	err error
}

func (e *responseError) Error() string { return e.msg }
func (e *responseError) Unwrap() error { return e.err }

func condense(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	msg := fmt.Sprintf("HTTP %d", re.StatusCode)
	if re.ErrorCode != "" {
		msg += " " + re.ErrorCode
	}
	if r := re.RawResponse; r != nil && r.Request != nil {
		// The path only: the query can hold a SAS token.
		msg = fmt.Sprintf("%s %s://%s%s: %s", r.Request.Method, r.Request.URL.Scheme, r.Request.URL.Host, r.Request.URL.Path, msg)
	}
	return &responseError{msg: msg, err: err}
}

// Close drops idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }
