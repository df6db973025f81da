package cloud

import (
	"context"
	"errors"
	"os"
	"strings"

	"cloud.google.com/go/auth/credentials"

	"gotk.dev/pkg/auth"
)

// gcpAccessTokenUser is the user name Google's registries take with an OAuth2 access
// token as the password.
const gcpAccessTokenUser = "oauth2accesstoken"

// gcpScope is the scope registry access needs.
const gcpScope = "https://www.googleapis.com/auth/cloud-platform"

// isGoogleRegistry matches Container Registry (gcr.io, <region>.gcr.io) and Artifact
// Registry (<location>-docker.pkg.dev) hosts.
func isGoogleRegistry(host string) bool {
	return host == "gcr.io" || strings.HasSuffix(host, ".gcr.io") || strings.HasSuffix(host, "-docker.pkg.dev")
}

// gcpLogin gets an access token from Application Default Credentials: on GKE with workload
// identity, the metadata server's token for the pod's service account.
func (l *Logins) gcpLogin(ctx context.Context) (auth.Token, error) {
	fail := func(err error) (auth.Token, error) {
		return auth.Token{}, &LoginError{Provider: ProviderGCP, Identity: controllerIdentity + " (Google Application Default Credentials)",
			Endpoint: gcpEndpoint(), Err: err}
	}
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{gcpScope}, Client: l.HTTPClient})
	if err != nil {
		return fail(oneLine(err))
	}
	t, err := creds.Token(ctx)
	if err != nil {
		return fail(oneLine(err))
	}
	if t.Value == "" {
		return fail(errors.New("the answer holds no access token"))
	}
	return auth.Token{Username: gcpAccessTokenUser, Value: t.Value, ExpiresAt: t.Expiry}, nil
}

// oneLine keeps an error on one bounded line.
func oneLine(err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > 600 {
		msg = msg[:600] + "..."
	}
	return errors.New(msg)
}

// gcpEndpoint names where Application Default Credentials come from.
func gcpEndpoint() string {
	if f := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); f != "" {
		return "the credentials file named by GOOGLE_APPLICATION_CREDENTIALS"
	}
	h := os.Getenv("GCE_METADATA_HOST")
	if h == "" {
		h = "metadata.google.internal"
	}
	return "the metadata server (" + h + ")"
}
