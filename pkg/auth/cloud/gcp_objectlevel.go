package cloud

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

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

// gcpProviderName is the documented form of a workload identity pool provider's resource
// name (pool and provider IDs: 4 to 32 lowercase letters, digits and hyphens).
var gcpProviderName = regexp.MustCompile(`^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}$`)

// gcpServiceAccountEmail is a Google service account's email: it becomes part of the
// impersonation URL's path, so nothing but its documented characters is let through.
var gcpServiceAccountEmail = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*@[a-z0-9][a-z0-9.-]*\.gserviceaccount\.com$`)

// checkGCPAnnotations refuses annotation values Google would not accept, saying which
// annotation and the form it needs.
func checkGCPAnnotations(id objectIdentity) error {
	if p := id.gcpProvider; p != "" && !gcpProviderName.MatchString(p) {
		hint := ""
		if strings.HasPrefix(p, "//") || strings.HasPrefix(p, "https:") {
			hint = " (the resource name without the //iam.googleapis.com/ prefix)"
		}
		return fmt.Errorf("invalid '%s' annotation %q: want projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>%s",
			AnnotationGCPWorkloadIdentityProvider, p, hint)
	}
	if e := id.gcpServiceAccount; e != "" && !gcpServiceAccountEmail.MatchString(e) {
		return fmt.Errorf("invalid '%s' annotation %q: want a Google service account email (<name>@<project>.iam.gserviceaccount.com)",
			AnnotationGCPServiceAcct, e)
	}
	return nil
}

// gcpPool returns the audience of the service account's tokens and the audience of the
// exchange at Google's STS: the workload identity provider the annotation names (clusters
// outside GKE; both are its full resource name) or else the GKE cluster's pool, read from
// the metadata server.
func gcpPool(ctx context.Context, id objectIdentity) (tokenAudience, stsAudience, endpoint string, err error) {
	if id.gcpProvider != "" {
		full := "//iam.googleapis.com/" + id.gcpProvider
		return full, full, "", nil
	}
	pool, audience, err := gkeWorkloadPool(ctx)
	if err != nil {
		return "", "", "the GKE metadata server (" + GCPEndpoint() + ") for the cluster's workload identity pool (outside GKE, annotate the service account with " +
			AnnotationGCPWorkloadIdentityProvider + ")", err
	}
	return pool, audience, "", nil
}

// gcpTokenAs exchanges the service account's token at Google's STS for a federated token of
// its workload identity pool (see gcpPool) and, when the iam.gke.io/gcp-service-account
// annotation names a Google service account, impersonates it (generateAccessToken); without
// it the federated token itself is the identity (direct resource access).
func (l *Logins) gcpTokenAs(ctx context.Context, id objectIdentity, sa *corev1.ServiceAccount) (auth.Token, error) {
	fail := func(endpoint string, err error) (auth.Token, error) {
		return auth.Token{}, &LoginError{Provider: ProviderGCP, Identity: id.String(), Endpoint: endpoint, Err: err}
	}
	tokenAudience, stsAudience, where, err := gcpPool(ctx, id)
	if err != nil {
		return fail(where, OneLine(err))
	}
	opts := &externalaccount.Options{
		Audience:         stsAudience,
		SubjectTokenType: "urn:ietf:params:oauth:token-type:jwt",
		TokenURL:         gcpSTSURL,
		Scopes:           []string{GCPScope},
		SubjectTokenProvider: subjectToken(func(ctx context.Context) (string, error) {
			return l.serviceAccountToken(ctx, id, sa, tokenAudience)
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
		return fail("", OneLine(err))
	}
	t, err := creds.Token(ctx)
	if err != nil {
		return fail(endpoint, OneLine(err))
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
