// Package gitprovider turns a GitRepository's spec.provider into Git credentials, for every
// controller that clones or pushes a GitRepository (source-controller, image-automation-
// controller):
//
//   - github: a GitHub App installation token (the app's Secret in spec.secretRef);
//   - azure: a Microsoft Entra ID token for Azure DevOps, of the controller's workload
//     identity or, with the ObjectLevelWorkloadIdentity gate, of spec.serviceAccountName;
//   - aws: AWS CodeCommit Git credentials signed with the controller's AWS identity.
//
// Tokens are cached (--token-cache-max-size, --token-cache-max-duration) and never appear in
// an error: errors name the identity and the endpoint that refused.
package gitprovider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/git"
)

// The spec.provider values of a GitRepository.
const (
	Generic = "generic"
	GitHub  = "github"
	Azure   = "azure"
	AWS     = "aws"
)

// The condition reasons of the errors (upstream source-controller's).
const (
	ReasonAuthenticationFailed         = "AuthenticationFailed"
	ReasonInvalidProviderConfiguration = "InvalidProviderConfiguration"
	ReasonURLInvalid                   = "URLInvalid"
)

// Error is why no credentials could be had, with the condition reason a controller reports
// it under. Stalled errors need a change of the object or its Secret; the others may pass
// on retry (a token endpoint that refused or could not be reached).
type Error struct {
	Reason  string
	Stalled bool
	Err     error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func stall(reason string, err error) error { return &Error{Reason: reason, Stalled: true, Err: err} }
func retry(reason string, err error) error { return &Error{Reason: reason, Err: err} }

// Source is what a GitRepository says about its credentials.
type Source struct {
	// Provider is spec.provider (github, azure or aws).
	Provider string
	// URL is spec.url, parsed.
	URL *url.URL
	// Namespace and ServiceAccountName are the object's namespace and
	// spec.serviceAccountName (azure only).
	Namespace, ServiceAccountName string
	// SecretName and Secret are spec.secretRef's name and data, when set: the GitHub App
	// (github); for azure and aws only its TLS entries (ca.crt, tls.crt, tls.key) are used.
	SecretName string
	Secret     map[string][]byte
	// Proxy is spec.proxySecretRef's proxy, which token requests go through too (github).
	Proxy *git.ProxyOptions
}

// Resolver gets provider credentials. One is shared by a controller's reconcilers; it is
// safe for concurrent use.
type Resolver struct {
	// Tokens caches GitHub App installation tokens; nil caches nothing.
	Tokens *auth.TokenCache
	// Logins gets the cloud identities' tokens (azure, aws); nil gets a fresh one over
	// Tokens on every call (no object-level identity).
	Logins *cloud.Logins
}

// Credentials returns the Git credentials of src's provider for src.URL. Errors are *Error.
func (r *Resolver) Credentials(ctx context.Context, src Source) (*git.AuthOptions, error) {
	switch src.Provider {
	case GitHub, Azure:
		if t := strings.ToLower(src.URL.Scheme); t != "https" && t != "http" {
			return nil, stall(ReasonURLInvalid, fmt.Errorf("provider '%s' needs an http(s) URL, not %s", src.Provider, src.URL.Scheme))
		}
	}
	switch src.Provider {
	case GitHub:
		return r.gitHubApp(ctx, src)
	case Azure:
		return r.azureDevOps(ctx, src)
	case AWS:
		return r.codeCommit(ctx, src)
	default:
		return nil, stall(ReasonInvalidProviderConfiguration, fmt.Errorf("provider '%s' is not supported", src.Provider))
	}
}

func (r *Resolver) logins() *cloud.Logins {
	if r.Logins != nil {
		return r.Logins
	}
	return &cloud.Logins{Cache: r.Tokens}
}

// gitHubApp authenticates as the GitHub App installation of the Secret.
func (r *Resolver) gitHubApp(ctx context.Context, src Source) (*git.AuthOptions, error) {
	if src.Secret == nil {
		return nil, stall(ReasonAuthenticationFailed,
			fmt.Errorf("provider 'github' needs spec.secretRef naming a Secret with the GitHub App's '%s', '%s' (or '%s') and '%s'",
				auth.KeyGitHubAppID, auth.KeyGitHubAppInstallationID, auth.KeyGitHubAppInstallationOwner, auth.KeyGitHubAppPrivateKey))
	}
	app, err := auth.GitHubAppFromSecret(src.Secret)
	if err != nil {
		return nil, stall(ReasonAuthenticationFailed, fmt.Errorf("invalid GitHub App secret '%s/%s': %w", src.Namespace, src.SecretName, err))
	}
	opts := auth.GitHubTokenOptions{Cache: r.Tokens}
	if src.Proxy != nil {
		if opts.Proxy, err = src.Proxy.ProxyURL(); err != nil {
			return nil, stall(ReasonAuthenticationFailed, err)
		}
	}
	tok, err := app.Token(ctx, opts)
	if err != nil {
		return nil, retry(ReasonAuthenticationFailed, err)
	}
	return &git.AuthOptions{Transport: git.Transport(strings.ToLower(src.URL.Scheme)), Host: src.URL.Host,
		Username: tok.Username, Password: tok.Value, CACert: app.CACert, TLSCert: app.TLSCert, TLSKey: app.TLSKey}, nil
}

// azureDevOps authenticates to Azure Repos with an Entra ID token sent as a bearer token.
func (r *Resolver) azureDevOps(ctx context.Context, src Source) (*git.AuthOptions, error) {
	tok, err := r.logins().AzureDevOpsToken(ctx, src.Namespace, src.ServiceAccountName)
	switch {
	case errors.Is(err, cloud.ErrObjectLevelDisabled):
		return nil, stall(meta.FeatureGateDisabledReason, err)
	case err != nil:
		return nil, retry(ReasonAuthenticationFailed, err)
	}
	o := tlsOnly(src)
	o.BearerToken = tok.Value
	return o, nil
}

// codeCommit signs CodeCommit Git credentials with the controller's AWS identity.
func (r *Resolver) codeCommit(ctx context.Context, src Source) (*git.AuthOptions, error) {
	if src.ServiceAccountName != "" {
		return nil, stall(ReasonInvalidProviderConfiguration,
			fmt.Errorf("provider 'aws' uses the controller's identity: spec.serviceAccountName is only for provider 'azure'"))
	}
	tok, err := r.logins().CodeCommitCredentials(ctx, src.URL)
	switch {
	case cloud.IsHostError(err), errors.Is(err, cloud.ErrControllerIdentityLocked):
		return nil, stall(ReasonInvalidProviderConfiguration, err)
	case err != nil:
		return nil, retry(ReasonAuthenticationFailed, err)
	}
	o := tlsOnly(src)
	o.Username, o.Password = tok.Username, tok.Value
	return o, nil
}

// Identity names who src's provider authenticates as, for the message of a Git server that
// refused the credentials. It makes no request and names no secret.
func (r *Resolver) Identity(src Source) string {
	switch src.Provider {
	case GitHub:
		if app, err := auth.GitHubAppFromSecret(src.Secret); err == nil {
			return app.String()
		}
		return fmt.Sprintf("the GitHub App of secret '%s/%s'", src.Namespace, src.SecretName)
	case Azure:
		sa, logins := src.ServiceAccountName, r.logins()
		if sa == "" && logins.ObjectLevel {
			sa = logins.DefaultServiceAccount
		}
		if sa != "" {
			return fmt.Sprintf("the Azure workload identity of service account '%s/%s'", src.Namespace, sa)
		}
		return "the controller's Azure workload identity"
	case AWS:
		// IRSA's role, when that is how the default chain finds the identity.
		if role := os.Getenv("AWS_ROLE_ARN"); role != "" {
			return "the controller's AWS identity (role " + role + ")"
		}
		return "the controller's AWS identity"
	}
	return fmt.Sprintf("the identity of provider '%s'", src.Provider)
}

// tlsOnly is the Secret's TLS settings for the URL, without its credentials: a cloud
// provider's identity replaces them.
func tlsOnly(src Source) *git.AuthOptions {
	o := &git.AuthOptions{Transport: git.Transport(strings.ToLower(src.URL.Scheme)), Host: src.URL.Host}
	if src.Secret != nil {
		o.CACert = src.Secret[git.KeyCACert]
		if len(o.CACert) == 0 {
			o.CACert = src.Secret[git.KeyCAFile]
		}
		o.TLSCert, o.TLSKey = src.Secret[git.KeyTLSCert], src.Secret[git.KeyTLSKey]
	}
	return o
}
