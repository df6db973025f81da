package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// providerCredentials gets a short-lived token for spec.provider and turns it into Git
// credentials for u. Tokens are cached (--token-cache-max-size/-duration) and never appear in
// a condition, event or log: errors name the identity and the endpoint that refused.
func (r *GitRepositoryReconciler) providerCredentials(ctx context.Context, s *gitScope, u *url.URL) error {
	obj := s.obj
	if t := strings.ToLower(u.Scheme); t != "https" && t != "http" {
		return failFetch(obj, reconcile.Stall(sourcev1.URLInvalidReason,
			fmt.Errorf("provider '%s' needs an http(s) URL, not %s", obj.Spec.Provider, u.Scheme)))
	}
	switch obj.Spec.Provider {
	case sourcev1.GitProviderGitHub:
		return r.githubAppCredentials(ctx, s, u)
	case sourcev1.GitProviderAzure:
		return r.azureDevOpsCredentials(ctx, s, u)
	default:
		return failFetch(obj, reconcile.Stall(sourcev1.AuthenticationFailedReason,
			fmt.Errorf("provider '%s' is not supported by this source-controller yet", obj.Spec.Provider)))
	}
}

// githubAppCredentials authenticates as the GitHub App installation of spec.secretRef.
func (r *GitRepositoryReconciler) githubAppCredentials(ctx context.Context, s *gitScope, u *url.URL) error {
	obj := s.obj
	ref := obj.Spec.SecretRef
	if ref == nil {
		return failFetch(obj, reconcile.Stall(sourcev1.AuthenticationFailedReason,
			fmt.Errorf("provider 'github' needs spec.secretRef naming a Secret with the GitHub App's '%s', '%s' (or '%s') and '%s'",
				auth.KeyGitHubAppID, auth.KeyGitHubAppInstallationID, auth.KeyGitHubAppInstallationOwner, auth.KeyGitHubAppPrivateKey)))
	}
	data, err := secretData(ctx, r.Client, obj.Namespace, ref.Name)
	if err != nil {
		return failFetch(obj, reconcile.Fail(sourcev1.AuthenticationFailedReason,
			fmt.Errorf("failed to get secret '%s/%s': %w", obj.Namespace, ref.Name, err)))
	}
	app, err := auth.GitHubAppFromSecret(data)
	if err != nil {
		return failFetch(obj, reconcile.Stall(sourcev1.AuthenticationFailedReason,
			fmt.Errorf("invalid GitHub App secret '%s/%s': %w", obj.Namespace, ref.Name, err)))
	}
	opts := auth.GitHubTokenOptions{Cache: r.TokenCache}
	if s.proxy != nil {
		if opts.Proxy, err = s.proxy.ProxyURL(); err != nil {
			return failFetch(obj, reconcile.Stall(sourcev1.AuthenticationFailedReason, err))
		}
	}
	tok, err := app.Token(ctx, opts)
	if err != nil {
		return failFetch(obj, reconcile.Fail(sourcev1.AuthenticationFailedReason, err))
	}
	s.auth = &git.AuthOptions{Transport: git.Transport(strings.ToLower(u.Scheme)), Host: u.Host,
		Username: tok.Username, Password: tok.Value, CACert: app.CACert, TLSCert: app.TLSCert, TLSKey: app.TLSKey}
	return nil
}

// azureDevOpsCredentials authenticates to Azure Repos with an Entra ID token of the
// controller's workload identity (or, with the ObjectLevelWorkloadIdentity gate, of
// spec.serviceAccountName), sent as a bearer token.
func (r *GitRepositoryReconciler) azureDevOpsCredentials(ctx context.Context, s *gitScope, u *url.URL) error {
	obj := s.obj
	logins := r.CloudLogins
	if logins == nil {
		logins = &cloud.Logins{Cache: r.TokenCache}
	}
	tok, err := logins.AzureDevOpsToken(ctx, obj.Namespace, obj.Spec.ServiceAccountName)
	switch {
	case errors.Is(err, cloud.ErrObjectLevelDisabled):
		return failFetch(obj, reconcile.Stall(meta.FeatureGateDisabledReason, err))
	case err != nil:
		return failFetch(obj, reconcile.Fail(sourcev1.AuthenticationFailedReason, err))
	}
	s.auth = &git.AuthOptions{Transport: git.Transport(strings.ToLower(u.Scheme)), Host: u.Host, BearerToken: tok.Value}
	return nil
}
