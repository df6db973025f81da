// Package gcs reads Google Cloud Storage buckets (the "gcp" provider) with
// cloud.google.com/go/storage over its JSON API.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/httptransport"
	"cloud.google.com/go/auth/oauth2adapt"
	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"gotk.dev/source-controller/internal/bucket/provider"
)

// ServiceAccountKey is the key of spec.secretRef holding a service account key (JSON).
const ServiceAccountKey = "serviceaccount"

// DefaultEndpoint is Google's own endpoint; any other spec.endpoint (an emulator, a private
// endpoint) is used as the JSON API base address.
const DefaultEndpoint = "storage.googleapis.com"

// Client is a provider.Provider over the Cloud Storage client library.
type Client struct {
	gc        *storage.Client
	bucket    *storage.BucketHandle
	transport *http.Transport
}

var _ provider.Provider = (*Client)(nil)

// New returns a client for a Cloud Storage bucket, authenticated with the service account key
// of the Secret or, without one, Application Default Credentials (workload identity, the
// metadata server, GOOGLE_APPLICATION_CREDENTIALS). Token requests and storage requests both
// go through the Bucket's proxy and TLS settings.
func New(ctx context.Context, opts provider.Options) (*Client, error) {
	transport := opts.Transport()
	if opts.Timeout > 0 {
		transport.ResponseHeaderTimeout = opts.Timeout
	}
	creds, err := findCredentials(opts, &http.Client{Transport: transport})
	if err != nil {
		return nil, err
	}
	hc, err := httptransport.NewClient(&httptransport.Options{
		Credentials:      creds,
		BaseRoundTripper: transport,
		DisableTelemetry: true,
	})
	if err != nil {
		return nil, fmt.Errorf("building the Cloud Storage HTTP client: %w", err)
	}
	// JSON API reads (not the XML API default): one API for listing and downloads, the one
	// private endpoints and emulators serve.
	clientOpts := []option.ClientOption{option.WithHTTPClient(hc), storage.WithJSONReads()}
	endpoint, err := endpointURL(opts.Endpoint, opts.Insecure)
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		clientOpts = append(clientOpts, option.WithEndpoint(endpoint))
	}
	gc, err := storage.NewClient(ctx, clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("creating the Cloud Storage client: %w", err)
	}
	return &Client{gc: gc, bucket: gc.Bucket(opts.Bucket), transport: transport}, nil
}

func findCredentials(opts provider.Options, hc *http.Client) (*auth.Credentials, error) {
	detect := &credentials.DetectOptions{
		Scopes: []string{storage.ScopeReadOnly},
		Client: hc,
	}
	if id := opts.Identity; id != nil {
		if id.GCP == nil {
			return nil, errors.New("the service account's identity has no Google credentials")
		}
		return auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: oauth2adapt.TokenProviderFromTokenSource(id.GCP)}), nil
	}
	if opts.Secret == nil {
		creds, err := credentials.DetectDefault(detect)
		if err != nil {
			return nil, fmt.Errorf("no Secret given and no Application Default Credentials found: %w", err)
		}
		return creds, nil
	}
	key := opts.Secret[ServiceAccountKey]
	if len(key) == 0 {
		return nil, fmt.Errorf("invalid secret: '%s' is required", ServiceAccountKey)
	}
	// Only service account keys: a Secret could otherwise name an external account whose
	// token exchange runs commands or reads files on the controller's host.
	creds, err := credentials.NewCredentialsFromJSON(credentials.ServiceAccount, key, detect)
	if err != nil {
		return nil, fmt.Errorf("invalid secret: '%s' is not a service account key: %s", ServiceAccountKey, errorKind(err))
	}
	return creds, nil
}

// errorKind keeps a credential parsing error's message only when it cannot quote the key.
func errorKind(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "PRIVATE KEY") || len(msg) > 200 {
		return "unreadable key"
	}
	return msg
}

// endpointURL turns spec.endpoint into the JSON API base address; "" keeps the default.
func endpointURL(endpoint string, insecure bool) (string, error) {
	scheme := "https"
	host := endpoint
	switch {
	case strings.HasPrefix(endpoint, "https://"):
		host = strings.TrimPrefix(endpoint, "https://")
	case strings.HasPrefix(endpoint, "http://"):
		if !insecure {
			return "", errors.New("endpoint uses http:// but spec.insecure is not true")
		}
		scheme, host = "http", strings.TrimPrefix(endpoint, "http://")
	case insecure:
		scheme = "http"
	}
	host = strings.TrimSuffix(host, "/")
	if host == "" || host == DefaultEndpoint {
		return "", nil
	}
	if strings.Contains(host, "@") {
		return "", errors.New("invalid endpoint: credentials in the endpoint are not supported, use spec.secretRef")
	}
	if strings.ContainsAny(host, "/?#") {
		return "", fmt.Errorf("invalid endpoint %q: want host[:port]", endpoint)
	}
	return scheme + "://" + host + "/storage/v1/", nil
}

// BucketExists lists at most one object: unlike reading the bucket's metadata
// (storage.buckets.get), that needs only storage.objects.list, which the Storage Object
// Viewer role that reading a bucket needs anyway grants.
func (c *Client) BucketExists(ctx context.Context) (bool, error) {
	q := &storage.Query{}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return false, err
	}
	it := c.bucket.Objects(ctx, q)
	it.PageInfo().MaxSize = 1
	_, err := it.Next()
	var gerr *googleapi.Error
	switch {
	case err == nil, errors.Is(err, iterator.Done):
		return true, nil
	case errors.Is(err, storage.ErrBucketNotExist),
		errors.As(err, &gerr) && gerr.Code == http.StatusNotFound:
		return false, nil
	}
	return false, err
}

// List pages through the objects below prefix, asking only for the fields it uses.
func (c *Client) List(ctx context.Context, prefix string, fn func(provider.Object) error) error {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Etag", "Size"}); err != nil {
		return err
	}
	it := c.bucket.Objects(ctx, q)
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(provider.Object{Key: attrs.Name, ETag: attrs.Etag, Size: attrs.Size}); err != nil {
			return err
		}
	}
}

// Download streams the object into w.
func (c *Client) Download(ctx context.Context, key string, w io.Writer) error {
	r, err := c.bucket.Object(key).NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("%w: %w", provider.ErrObjectNotFound, err)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// Close shuts the client down.
func (c *Client) Close() {
	_ = c.gc.Close()
	c.transport.CloseIdleConnections()
}
