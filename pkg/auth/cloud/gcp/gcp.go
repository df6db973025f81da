package gcp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/auth/credentials/externalaccount"
	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2"

	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
)

// Google's token exchange and service account impersonation endpoints.
const (
	gcpSTSURL           = "https://sts.googleapis.com/v1/token"
	gcpImpersonationURL = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/%s:generateAccessToken"
)

// gkeWorkloadPool reads the cluster's workload identity pool ("<project>.svc.id.goog", the
// audience of the service account tokens) and the identity provider audience STS takes,
// from the GKE metadata server, as GKE's own workload identity does.
func gkeWorkloadPool(ctx context.Context) (pool, audience string, err error) {
	project, err := metadata.ProjectIDWithContext(ctx)
	if err != nil {
		return "", "", err
	}
	cluster, err := metadata.InstanceAttributeValueWithContext(ctx, "cluster-name")
	if err != nil {
		return "", "", err
	}
	location, err := metadata.InstanceAttributeValueWithContext(ctx, "cluster-location")
	if err != nil {
		return "", "", err
	}
	pool = project + ".svc.id.goog"
	audience = fmt.Sprintf("identitynamespace:%s:https://container.googleapis.com/v1/projects/%s/locations/%s/clusters/%s", pool, project, location, cluster)
	return pool, audience, nil
}

// gcpPool returns the audience of the service account's tokens and the audience of the
// exchange at Google's STS: the workload identity provider the annotation names (clusters
// outside GKE; both are its full resource name) or else the GKE cluster's pool, read from
// the metadata server.
func gcpPool(ctx context.Context, id *cloud.Identity) (tokenAudience, stsAudience, endpoint string, err error) {
	if id.GCPWorkloadIdentityProvider() != "" {
		full := "//iam.googleapis.com/" + id.GCPWorkloadIdentityProvider()
		return full, full, "", nil
	}
	pool, audience, err := gkeWorkloadPool(ctx)
	if err != nil {
		return "", "", "the GKE metadata server (" + cloud.GCPEndpoint() + ") for the cluster's workload identity pool (outside GKE, annotate the service account with " +
			cloud.AnnotationGCPWorkloadIdentityProvider + ")", err
	}
	return pool, audience, "", nil
}

// tokenAs exchanges the service account's token at Google's STS for a federated token of
// its workload identity pool (see gcpPool) and, when the iam.gke.io/gcp-service-account
// annotation names a Google service account, impersonates it (generateAccessToken); without
// it the federated token itself is the identity (direct resource access).
func tokenAs(ctx context.Context, l *cloud.Logins, id *cloud.Identity) (auth.Token, error) {
	fail := func(endpoint string, err error) (auth.Token, error) {
		return auth.Token{}, &cloud.LoginError{Provider: cloud.ProviderGCP, Identity: id.String(), Endpoint: endpoint, Err: err}
	}
	tokenAudience, stsAudience, where, err := gcpPool(ctx, id)
	if err != nil {
		return fail(where, cloud.OneLine(err))
	}
	opts := &externalaccount.Options{
		Audience:         stsAudience,
		SubjectTokenType: "urn:ietf:params:oauth:token-type:jwt",
		TokenURL:         gcpSTSURL,
		Scopes:           []string{cloud.GCPScope},
		SubjectTokenProvider: subjectToken(func(ctx context.Context) (string, error) {
			return l.ServiceAccountToken(ctx, id, tokenAudience)
		}),
		Client: l.HTTPClient,
	}
	endpoint := "Google STS (" + gcpSTSURL + ")"
	if id.GCPServiceAccount() != "" {
		opts.ServiceAccountImpersonationURL = fmt.Sprintf(gcpImpersonationURL, id.GCPServiceAccount())
		endpoint += " and IAM Credentials generateAccessToken"
	}
	creds, err := externalaccount.NewCredentials(opts)
	if err != nil {
		return fail("", cloud.OneLine(err))
	}
	t, err := creds.Token(ctx)
	if err != nil {
		return fail(endpoint, cloud.OneLine(err))
	}
	if t.Value == "" {
		return fail(endpoint, errors.New("the answer holds no access token"))
	}
	return auth.Token{Value: t.Value, ExpiresAt: t.Expiry}, nil
}

// subjectToken adapts a function to externalaccount.SubjectTokenProvider.
type subjectToken func(ctx context.Context) (string, error)

func (f subjectToken) SubjectToken(ctx context.Context, _ *externalaccount.RequestOptions) (string, error) {
	return f(ctx)
}

// TokenSource returns Google access tokens of a service account's workload identity (see
// tokenAs: the pool the gcp.auth.fluxcd.io/workload-identity-provider annotation names or,
// without it, the GKE cluster's; then the iam.gke.io/gcp-service-account it may
// impersonate), cached per service account, identity and l's proxy (see cloud.Logins.Via).
// purpose (cloud.PurposeKMS, PurposeStorage, PurposeRegistry) is what errors say the
// credentials were for; failures are *cloud.CredentialsError.
func TokenSource(l *cloud.Logins, purpose, namespace, name string) oauth2.TokenSource {
	return oauth2.ReuseTokenSource(nil, gcpTokenSource(func() (*oauth2.Token, error) {
		// oauth2.TokenSource has no context: bound the exchange here.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		id, err := l.Identify(ctx, cloud.ProviderGCP, namespace, name)
		if err != nil {
			return nil, &cloud.CredentialsError{Purpose: purpose, Provider: cloud.ProviderGCP, Identity: id.String(), Err: err}
		}
		key := l.CacheKey("object-credentials", cloud.ProviderGCP, namespace, name, id.GCPWorkloadIdentityProvider(), id.GCPServiceAccount())
		tok, _, err := l.Cache.GetOrFetch(ctx, key, func(ctx context.Context) (auth.Token, error) { return tokenAs(ctx, l, id) })
		var le *cloud.LoginError
		if errors.As(err, &le) {
			return nil, &cloud.CredentialsError{Purpose: purpose, Provider: le.Provider, Identity: le.Identity, Endpoint: le.Endpoint, Err: le.Err}
		}
		if err != nil {
			return nil, err
		}
		return &oauth2.Token{AccessToken: tok.Value, TokenType: "Bearer", Expiry: tok.ExpiresAt}, nil
	}))
}

// gcpTokenSource adapts a function to oauth2.TokenSource.
type gcpTokenSource func() (*oauth2.Token, error)

func (f gcpTokenSource) Token() (*oauth2.Token, error) { return f() }
