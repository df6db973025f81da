package registry

import (
	"context"
	"errors"
	"strings"

	"cloud.google.com/go/auth/credentials"

	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/auth/cloud/gcp"
)

// gcpAccessTokenUser is the user name Google's registries take with an OAuth2 access
// token as the password.
const gcpAccessTokenUser = "oauth2accesstoken"

// isGoogleRegistry matches Container Registry (gcr.io, <region>.gcr.io) and Artifact
// Registry (<location>-docker.pkg.dev) hosts.
func isGoogleRegistry(host string) bool {
	return host == "gcr.io" || strings.HasSuffix(host, ".gcr.io") || strings.HasSuffix(host, "-docker.pkg.dev")
}

// gcpLogin gets an access token from Application Default Credentials (on GKE with workload
// identity, the metadata server's token for the pod's service account) or, for a service
// account, of its workload identity (Google's STS, then impersonation).
func gcpLogin(ctx context.Context, l *cloud.Logins, namespace, serviceAccount string) (auth.Token, error) {
	if serviceAccount != "" {
		t, err := gcp.TokenSource(l, cloud.PurposeRegistry, namespace, serviceAccount).Token()
		if err != nil {
			return auth.Token{}, err
		}
		return auth.Token{Username: gcpAccessTokenUser, Value: t.AccessToken, ExpiresAt: t.Expiry}, nil
	}
	fail := func(err error) (auth.Token, error) {
		return auth.Token{}, &cloud.LoginError{Provider: cloud.ProviderGCP, Identity: cloud.ControllerIdentity + " (Google Application Default Credentials)",
			Endpoint: cloud.GCPEndpoint(), Err: err}
	}
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{cloud.GCPScope}, Client: l.HTTPClient})
	if err != nil {
		return fail(cloud.OneLine(err))
	}
	t, err := creds.Token(ctx)
	if err != nil {
		return fail(cloud.OneLine(err))
	}
	if t.Value == "" {
		return fail(errors.New("the answer holds no access token"))
	}
	return auth.Token{Username: gcpAccessTokenUser, Value: t.Value, ExpiresAt: t.Expiry}, nil
}
