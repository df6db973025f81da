package cloud

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/auth/credentials/externalaccount"
	"cloud.google.com/go/compute/metadata"
	corev1 "k8s.io/api/core/v1"

	"gotk.dev/pkg/auth"
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

// gcpTokenAs exchanges the service account's token at Google's STS for a federated token of
// the cluster's workload identity pool and, when the iam.gke.io/gcp-service-account
// annotation names a Google service account, impersonates it (generateAccessToken); without
// it the federated token itself is the identity (direct resource access).
func (l *Logins) gcpTokenAs(ctx context.Context, id objectIdentity, sa *corev1.ServiceAccount) (auth.Token, error) {
	fail := func(endpoint string, err error) (auth.Token, error) {
		return auth.Token{}, &LoginError{Provider: ProviderGCP, Identity: id.String(), Endpoint: endpoint, Err: err}
	}
	pool, audience, err := gkeWorkloadPool(ctx)
	if err != nil {
		return fail("the GKE metadata server ("+gcpEndpoint()+")", oneLine(err))
	}
	opts := &externalaccount.Options{
		Audience:         audience,
		SubjectTokenType: "urn:ietf:params:oauth:token-type:jwt",
		TokenURL:         gcpSTSURL,
		Scopes:           []string{gcpScope},
		SubjectTokenProvider: subjectToken(func(ctx context.Context) (string, error) {
			return l.serviceAccountToken(ctx, id, sa, pool)
		}),
		Client: l.HTTPClient,
	}
	endpoint := "Google STS (" + gcpSTSURL + ")"
	if id.gcpServiceAccount != "" {
		opts.ServiceAccountImpersonationURL = fmt.Sprintf(gcpImpersonationURL, id.gcpServiceAccount)
		endpoint += " and IAM Credentials generateAccessToken"
	}
	creds, err := externalaccount.NewCredentials(opts)
	if err != nil {
		return fail("", oneLine(err))
	}
	t, err := creds.Token(ctx)
	if err != nil {
		return fail(endpoint, oneLine(err))
	}
	if t.Value == "" {
		return fail(endpoint, errors.New("the answer holds no access token"))
	}
	return auth.Token{Username: gcpAccessTokenUser, Value: t.Value, ExpiresAt: t.Expiry}, nil
}

// subjectToken adapts a function to externalaccount.SubjectTokenProvider.
type subjectToken func(ctx context.Context) (string, error)

func (f subjectToken) SubjectToken(ctx context.Context, _ *externalaccount.RequestOptions) (string, error) {
	return f(ctx)
}
