// Package provider defines what the Bucket logic needs from an object storage service (list
// objects with their ETags, download one object, check that the bucket exists) and the
// connection settings every implementation shares. The implementations live in the s3 (generic
// and aws), gcs and azure subpackages.
package provider

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/oauth2"
)

// Object is one entry of a bucket listing.
type Object struct {
	// Key is the full object key, prefix included.
	Key string
	// ETag identifies the object's content version, as the service reports it.
	ETag string
	// Size is the content length in bytes.
	Size int64
}

// Provider is a client bound to one bucket. Implementations are safe for concurrent use.
type Provider interface {
	// BucketExists reports whether the bucket exists; (false, nil) when the service says it
	// does not, an error when the service cannot tell (unreachable, denied).
	BucketExists(ctx context.Context) (bool, error)
	// List calls fn for every object whose key starts with prefix ("" for all), in any order.
	// It stops at and returns the first error fn returns.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// Download writes the content of the object key to w. It returns an error wrapping
	// ErrObjectNotFound when the key does not exist.
	Download(ctx context.Context, key string, w io.Writer) error
	// Close releases idle connections.
	Close()
}

// ErrObjectNotFound is wrapped by Download errors for keys that do not exist.
var ErrObjectNotFound = errors.New("object not found")

// Options are the resolved connection settings of a Bucket: its spec fields plus the data of
// the Secrets it references. Secret values must never be put into errors.
type Options struct {
	// Bucket is spec.bucketName.
	Bucket string
	// Endpoint is spec.endpoint.
	Endpoint string
	// Region is spec.region.
	Region string
	// Insecure is spec.insecure: plain HTTP to the endpoint.
	Insecure bool
	// Secret is the data of spec.secretRef; nil when not set.
	Secret map[string][]byte
	// TLS is the client TLS configuration from spec.certSecretRef; nil for system roots.
	TLS *tls.Config
	// Proxy is the proxy from spec.proxySecretRef, credentials in its userinfo; nil to use
	// the environment (HTTPS_PROXY, NO_PROXY, ...).
	Proxy *url.URL
	// STS is spec.sts; nil when not set.
	STS *STS
	// Timeout bounds each request to the service (spec.timeout); zero for none.
	Timeout time.Duration
	// Identity is the cloud identity of a Kubernetes service account (spec.serviceAccountName
	// or --default-service-account, object-level workload identity); nil otherwise. When set,
	// it alone authenticates: the controller's own identity is never tried.
	Identity *Identity
}

// Identity is a service account's cloud identity as each provider's SDK takes it; the field
// of the Bucket's provider is set. Failures to get credentials name the service account and
// the endpoint that refused, never a token.
type Identity struct {
	// AWS gives S3 credentials (STS AssumeRoleWithWebIdentity of the annotated role).
	AWS aws.CredentialsProvider
	// Azure gives Entra ID tokens (federated assertion of the annotated client).
	Azure azcore.TokenCredential
	// GCP gives Google access tokens (STS token exchange, impersonation).
	GCP oauth2.TokenSource
}

// STS is a resolved spec.sts.
type STS struct {
	// Provider is "aws" or "ldap".
	Provider string
	// Endpoint is the STS address.
	Endpoint string
	// Secret is the data of spec.sts.secretRef (ldap: username, password); nil when not set.
	Secret map[string][]byte
	// TLS is the client TLS configuration from spec.sts.certSecretRef; nil for system roots.
	TLS *tls.Config
}

// Secrets lists every secret value in the options (credentials, passwords, keys), so callers
// can scrub them from error messages a library produced.
func (o *Options) Secrets() []string {
	var out []string
	add := func(data map[string][]byte) {
		for _, v := range data {
			if len(v) > 0 {
				out = append(out, string(v))
			}
		}
	}
	add(o.Secret)
	if o.STS != nil {
		add(o.STS.Secret)
	}
	if o.Proxy != nil && o.Proxy.User != nil {
		if p, ok := o.Proxy.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}
