// Package s3 reads buckets through the S3 API with minio-go: the "generic" provider (any
// S3-compatible service: MinIO, Ceph, Wasabi, GCS interoperability, ...) and the "aws"
// provider (Amazon S3, with the AWS credential chain when no Secret is given).
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"gotk.dev/source-controller/internal/bucket/provider"
)

// Keys of a Bucket's spec.secretRef for both S3 providers.
const (
	AccessKeyKey = "accesskey"
	SecretKeyKey = "secretkey"
)

// Keys of spec.sts.secretRef for the ldap STS provider.
const (
	LDAPUsernameKey = "username"
	LDAPPasswordKey = "password"
)

// Client is a provider.Provider over minio-go.
type Client struct {
	mc        *minio.Client
	bucket    string
	transport *http.Transport
}

var _ provider.Provider = (*Client)(nil)

// NewGeneric returns a client for an S3-compatible endpoint. Credentials are the static
// accesskey/secretkey of the Secret, temporary ones from an ldap STS, or none (anonymous
// access to a public bucket).
func NewGeneric(opts provider.Options) (*Client, error) {
	creds, err := genericCredentials(opts)
	if err != nil {
		return nil, err
	}
	return newClient(opts, creds)
}

// NewAWS returns a client for Amazon S3. Credentials are the static accesskey/secretkey of
// the Secret or, without one, the AWS chain: environment variables, the shared credentials
// file, then IAM (web identity/IRSA, ECS, EC2 instance metadata; through spec.sts.endpoint
// when set).
func NewAWS(opts provider.Options) (*Client, error) {
	if opts.STS != nil && opts.STS.Provider != "aws" {
		return nil, fmt.Errorf("the 'aws' provider only supports the 'aws' STS provider, not %q", opts.STS.Provider)
	}
	if opts.Secret != nil {
		creds, err := staticCredentials(opts.Secret)
		if err != nil {
			return nil, err
		}
		return newClient(opts, creds)
	}
	if id := opts.Identity; id != nil {
		if id.AWS == nil {
			return nil, errors.New("the service account's identity has no AWS credentials")
		}
		return newClient(opts, credentials.New(&serviceAccountCredentials{p: id.AWS}))
	}
	iamEndpoint := ""
	if opts.STS != nil {
		iamEndpoint = opts.STS.Endpoint
	}
	for _, p := range []credentials.Provider{&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}} {
		if v, err := p.Retrieve(); err == nil && v.AccessKeyID != "" {
			return newClient(opts, credentials.New(p))
		}
	}
	// The workload identity (IRSA web identity, EKS Pod Identity/ECS, EC2 metadata); a
	// refusal names the identity and the STS endpoint instead of showing up as an anonymous
	// request's "Access Denied".
	where := "the default STS endpoint"
	if iamEndpoint != "" {
		where = "STS at " + iamEndpoint + " (spec.sts.endpoint)"
	}
	return newClient(opts, credentials.New(describedIAM{IAM: &credentials.IAM{Endpoint: iamEndpoint}, where: where}))
}

// describedIAM is minio's IAM provider with errors that say whose credentials failed where.
type describedIAM struct {
	*credentials.IAM
	where string
}

func (d describedIAM) Retrieve() (credentials.Value, error) {
	v, err := d.IAM.Retrieve()
	return v, d.describe(err)
}

func (d describedIAM) RetrieveWithCredContext(cc *credentials.CredContext) (credentials.Value, error) {
	v, err := d.IAM.RetrieveWithCredContext(cc)
	return v, d.describe(err)
}

func (d describedIAM) describe(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("provider 'aws': failed to get credentials with the controller's workload identity (IRSA web identity, container or instance metadata) from %s: %s",
		d.where, strings.Join(strings.Fields(err.Error()), " "))
}

func genericCredentials(opts provider.Options) (*credentials.Credentials, error) {
	if opts.STS != nil {
		if opts.STS.Provider != "ldap" {
			return nil, fmt.Errorf("the 'generic' provider only supports the 'ldap' STS provider, not %q", opts.STS.Provider)
		}
		return ldapCredentials(opts)
	}
	if opts.Secret != nil {
		return staticCredentials(opts.Secret)
	}
	// No Secret: anonymous requests, for public buckets.
	return credentials.NewStaticV4("", "", ""), nil
}

func staticCredentials(data map[string][]byte) (*credentials.Credentials, error) {
	ak, sk := string(data[AccessKeyKey]), string(data[SecretKeyKey])
	if ak == "" || sk == "" {
		return nil, fmt.Errorf("invalid secret: '%s' and '%s' are required", AccessKeyKey, SecretKeyKey)
	}
	return credentials.NewStaticV4(ak, sk, ""), nil
}

// ldapCredentials asks a MinIO-style STS (AssumeRoleWithLDAPIdentity) for temporary
// credentials, through the STS TLS settings and the Bucket's proxy.
func ldapCredentials(opts provider.Options) (*credentials.Credentials, error) {
	var user, pass string
	if s := opts.STS.Secret; s != nil {
		user, pass = string(s[LDAPUsernameKey]), string(s[LDAPPasswordKey])
		if user == "" || pass == "" {
			return nil, fmt.Errorf("invalid STS secret: '%s' and '%s' are required", LDAPUsernameKey, LDAPPasswordKey)
		}
	}
	id := &credentials.LDAPIdentity{
		Client:       &http.Client{Transport: provider.Transport(opts.STS.TLS, opts.Proxy)},
		STSEndpoint:  opts.STS.Endpoint,
		LDAPUsername: user,
		LDAPPassword: pass,
	}
	return credentials.New(id), nil
}

func newClient(opts provider.Options, creds *credentials.Credentials) (*Client, error) {
	host, secure, err := splitEndpoint(opts.Endpoint, opts.Insecure)
	if err != nil {
		return nil, err
	}
	transport := opts.Transport()
	if opts.Timeout > 0 {
		transport.ResponseHeaderTimeout = opts.Timeout
	}
	mc, err := minio.New(host, &minio.Options{
		Creds:     creds,
		Secure:    secure,
		Region:    opts.Region,
		Transport: transport,
		// A failing endpoint should fail the reconcile quickly; the controller retries.
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint: %w", err)
	}
	return &Client{mc: mc, bucket: opts.Bucket, transport: transport}, nil
}

// splitEndpoint accepts "host[:port]" (TLS unless insecure) or a URL with an http or https
// scheme; plain http needs spec.insecure.
func splitEndpoint(endpoint string, insecure bool) (host string, secure bool, err error) {
	switch {
	case strings.HasPrefix(endpoint, "https://"):
		host, secure = strings.TrimPrefix(endpoint, "https://"), true
	case strings.HasPrefix(endpoint, "http://"):
		if !insecure {
			return "", false, errors.New("endpoint uses http:// but spec.insecure is not true")
		}
		host = strings.TrimPrefix(endpoint, "http://")
	default:
		host, secure = endpoint, !insecure
	}
	host = strings.TrimSuffix(host, "/")
	if strings.Contains(host, "@") {
		return "", false, errors.New("invalid endpoint: credentials in the endpoint are not supported, use spec.secretRef")
	}
	if host == "" || strings.ContainsAny(host, "/?#") {
		return "", false, fmt.Errorf("invalid endpoint %q: want host[:port]", endpoint)
	}
	return host, secure, nil
}

// BucketExists asks the service whether the bucket exists.
func (c *Client) BucketExists(ctx context.Context) (bool, error) {
	ok, err := c.mc.BucketExists(ctx, c.bucket)
	if err != nil {
		return false, err
	}
	return ok, nil
}

// List walks the bucket recursively below prefix.
func (c *Client) List(ctx context.Context, prefix string, fn func(provider.Object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine when fn fails
	for obj := range c.mc.ListObjects(ctx, c.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		if err := fn(provider.Object{Key: obj.Key, ETag: obj.ETag, Size: obj.Size}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Download streams the object into w.
func (c *Client) Download(ctx context.Context, key string, w io.Writer) error {
	obj, err := c.mc.GetObject(ctx, c.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return notFound(err)
	}
	defer obj.Close()
	if _, err := io.Copy(w, obj); err != nil {
		return notFound(err)
	}
	return nil
}

func notFound(err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return fmt.Errorf("%w: %w", provider.ErrObjectNotFound, err)
	}
	return err
}

// Close drops idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }
