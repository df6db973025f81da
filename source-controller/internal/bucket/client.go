// Package bucket is the domain logic of the Bucket source: it reads an object storage bucket
// (S3-compatible, Amazon S3, Google Cloud Storage or Azure Blob Storage), selects objects with
// spec.prefix, spec.ignore and a .sourceignore object, computes the revision Flux reports
// (the sha256 digest of the sorted key/ETag index) and downloads the selected objects into a
// working directory, refusing keys that would land outside it.
//
// A reconciler step calls, in order:
//
//	cfg, err := bucket.ConfigFor(ctx, obj, getSecret, nil)
//	c, err := bucket.Open(ctx, cfg)
//	defer c.Close()
//	idx, err := c.Index(ctx)
//	if idx.UpToDate(obj.GetArtifact()) { /* nothing to download */ }
//	err = c.Download(ctx, idx, dir, bucket.DownloadOptions{})
//	// archive dir as the artifact for idx.Revision()
//
// Every error is an *Error carrying the condition reason (ReasonOf) and whether only a spec
// change can fix it (IsStalled).
package bucket

import (
	"context"
	"errors"
	"fmt"

	"gotk.dev/pkg/auth/cloud"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket/provider"
	"gotk.dev/source-controller/internal/bucket/provider/azure"
	"gotk.dev/source-controller/internal/bucket/provider/gcs"
	"gotk.dev/source-controller/internal/bucket/provider/s3"
)

// Provider is what a storage service implementation offers; see package provider.
type Provider = provider.Provider

// Object is one listed object: key, ETag and size.
type Object = provider.Object

// Client reads one Bucket.
type Client struct {
	cfg     Config
	p       Provider
	secrets []string
}

// Open connects a client for cfg's provider. Nothing is sent to the service yet, except for
// credentials that need a token exchange up front.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	var (
		p   Provider
		err error
	)
	switch cfg.Provider {
	case sourcev1.BucketProviderGeneric, "":
		p, err = s3.NewGeneric(cfg.Options)
	case sourcev1.BucketProviderAmazon:
		p, err = s3.NewAWS(cfg.Options)
	case sourcev1.BucketProviderGoogle:
		p, err = gcs.New(ctx, cfg.Options)
	case sourcev1.BucketProviderAzure:
		p, err = azure.New(cfg.Options)
	default:
		return nil, &Error{Reason: sourcev1.InvalidProviderConfigurationReason, Stalled: true,
			Err: fmt.Errorf("%s: unsupported provider %q", cfg.where(), cfg.Provider)}
	}
	secrets := cfg.Options.Secrets()
	if err != nil {
		return nil, &Error{Reason: sourcev1.AuthenticationFailedReason,
			Err: fmt.Errorf("%s: %w", cfg.where(), scrub(err, secrets))}
	}
	return NewClient(cfg, p), nil
}

// NewClient wraps an already built provider, for providers this package does not know and
// for tests.
func NewClient(cfg Config, p Provider) *Client {
	return &Client{cfg: cfg, p: p, secrets: cfg.Options.Secrets()}
}

// Close releases the provider's connections.
func (c *Client) Close() { c.p.Close() }

func (cfg *Config) where() string { return where(cfg.Options.Bucket, cfg.Options.Endpoint) }

// fail wraps a service error as a BucketOperationFailed *Error naming the bucket and
// endpoint; a service account's identity that could not get credentials is
// AuthenticationFailed.
func (c *Client) fail(op string, err error) error {
	reason := sourcev1.BucketOperationFailedReason
	var ce *cloud.CredentialsError
	if errors.As(err, &ce) {
		// The SDKs wrap it in request details (a URL with its query, "failed to refresh
		// cached credentials"); it already says who failed where.
		reason, err = sourcev1.AuthenticationFailedReason, ce
	}
	return &Error{Reason: reason, Err: fmt.Errorf("%s: %s: %w", c.cfg.where(), op, scrub(err, c.secrets))}
}

// withTimeout bounds one operation by spec.timeout.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if t := c.cfg.Options.Timeout; t > 0 {
		return context.WithTimeout(ctx, t)
	}
	return context.WithCancel(ctx)
}
