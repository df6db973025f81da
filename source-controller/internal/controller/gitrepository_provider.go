package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"gotk.dev/pkg/auth/gitprovider"
	"gotk.dev/pkg/reconcile"
)

// providerCredentials gets the Git credentials spec.provider names (github, azure, aws;
// gotk.dev/pkg/auth/gitprovider, shared with image-automation-controller). Tokens are cached
// (--token-cache-max-size/-duration) and never appear in a condition, event or log: errors
// name the identity and the endpoint that refused.
func (r *GitRepositoryReconciler) providerCredentials(ctx context.Context, s *gitScope, u *url.URL) error {
	obj := s.obj
	src := gitprovider.Source{Provider: obj.Spec.Provider, URL: u, Namespace: obj.Namespace,
		ServiceAccountName: obj.Spec.ServiceAccountName, Proxy: s.proxy}
	if ref := obj.Spec.SecretRef; ref != nil {
		data, err := secretData(ctx, r.Client, obj.Namespace, ref.Name)
		if err != nil {
			return failFetch(obj, reconcile.Fail(gitprovider.ReasonAuthenticationFailed,
				fmt.Errorf("failed to get secret '%s/%s': %w", obj.Namespace, ref.Name, err)))
		}
		src.SecretName, src.Secret = ref.Name, data
	}
	providers := r.providers()
	auth, err := providers.Credentials(ctx, src)
	var perr *gitprovider.Error
	switch {
	case errors.As(err, &perr) && perr.Stalled:
		return failFetch(obj, reconcile.Stall(perr.Reason, err))
	case errors.As(err, &perr):
		return failFetch(obj, reconcile.Fail(perr.Reason, err))
	case err != nil:
		return failFetch(obj, reconcile.Fail(gitprovider.ReasonAuthenticationFailed, err))
	}
	s.auth, s.identity = auth, providers.Identity(src)
	return nil
}

// providers is the shared provider resolver over the reconciler's caches.
func (r *GitRepositoryReconciler) providers() *gitprovider.Resolver {
	return &gitprovider.Resolver{Tokens: r.TokenCache, Logins: r.CloudLogins}
}
