package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	aclapi "github.com/fluxcd/pkg/apis/acl"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	"gotk.dev/image-automation-controller/internal/update"
	"gotk.dev/pkg/auth/gitprovider"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/redact"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// validate checks what only the user can fix in the automation's own spec.
func (r *ImageUpdateAutomationReconciler) validate(_ context.Context, s *scope) (reconcile.Result, error) {
	spec := s.obj.Spec
	stall := func(reason, format string, args ...any) (reconcile.Result, error) {
		return reconcile.Result{}, reconcile.Stall(reason, fmt.Errorf(format, args...))
	}
	if k := spec.SourceRef.Kind; k != "" && k != imagev1.GitRepositoryKind {
		return stall(imagev1.InvalidSourceConfigReason, "source kind '%s' not supported: .spec.sourceRef.kind must be GitRepository", k)
	}
	if spec.GitSpec == nil {
		return stall(imagev1.InvalidSourceConfigReason, "source kind GitRepository needs .spec.git")
	}
	if u := s.obj.GetUpdateStrategy(); u.Strategy != imagev1.UpdateStrategySetters {
		return stall(imagev1.InvalidUpdateStrategyReason, "update strategy '%s' not supported: .spec.update.strategy must be Setters", u.Strategy)
	}
	if spec.PolicySelector != nil {
		if _, err := metav1.LabelSelectorAsSelector(spec.PolicySelector); err != nil {
			return stall(imagev1.InvalidPolicySelectorReason, "invalid .spec.policySelector: %v", err)
		}
	}
	return reconcile.Result{}, nil
}

// getSource reads the GitRepository, its credentials and proxy Secrets, and the checkout ref.
func (r *ImageUpdateAutomationReconciler) getSource(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	key := types.NamespacedName{Namespace: obj.GetSourceNamespace(), Name: obj.Spec.SourceRef.Name}
	if r.cfg.NoCrossNamespaceRefs && key.Namespace != obj.Namespace {
		return reconcile.Result{}, reconcile.Stall(aclapi.AccessDeniedReason,
			fmt.Errorf("can't access 'GitRepository/%s', cross-namespace references have been blocked", key))
	}
	var src sourcev1.GitRepository
	if err := r.Get(ctx, key, &src); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, reconcile.Wait(meta.DependencyNotReadyReason, fmt.Errorf("referenced GitRepository '%s' not found", key), 0)
		}
		return reconcile.Result{}, reconcile.Fail(imagev1.SourceManagerFailedReason, fmt.Errorf("failed to get GitRepository '%s': %w", key, err))
	}
	u, err := url.Parse(src.Spec.URL)
	if err != nil || u.Host == "" {
		return reconcile.Result{}, reconcile.Stall(imagev1.InvalidSourceConfigReason,
			fmt.Errorf("GitRepository '%s' has an invalid URL '%s'", key, redact.URL(src.Spec.URL)))
	}
	var data map[string][]byte
	if ref := src.Spec.SecretRef; ref != nil {
		if data, err = r.secretData(ctx, src.Namespace, ref.Name); err != nil {
			return reconcile.Result{}, err
		}
	}
	if ref := src.Spec.ProxySecretRef; ref != nil {
		pdata, err := r.secretData(ctx, src.Namespace, ref.Name)
		if err != nil {
			return reconcile.Result{}, err
		}
		if s.proxy, err = git.NewProxyOptions(pdata); err != nil {
			return reconcile.Result{}, reconcile.Stall(imagev1.SourceManagerFailedReason, fmt.Errorf("GitRepository '%s': %w", key, err))
		}
	}
	if p := src.GetProvider(); p != sourcev1.GitProviderGeneric {
		if s.auth, s.identity, err = r.providerCredentials(ctx, &src, u, data, s.proxy); err != nil {
			return reconcile.Result{}, err
		}
	} else if s.auth, err = git.NewAuthOptions(u, data); err != nil {
		// Credentials embedded in the URL count too, as for source-controller.
		return reconcile.Result{}, reconcile.Stall(imagev1.SourceManagerFailedReason, fmt.Errorf("GitRepository '%s': %w", key, err))
	}
	s.source = &src
	s.checkout = checkoutRef(obj, &src)
	return reconcile.Result{}, nil
}

// providerCredentials gets the Git credentials of the GitRepository's spec.provider (GitHub
// App, Azure DevOps or CodeCommit identity) the way source-controller does
// (gotk.dev/pkg/auth/gitprovider): the automation clones and pushes as that identity.
func (r *ImageUpdateAutomationReconciler) providerCredentials(ctx context.Context, src *sourcev1.GitRepository, u *url.URL,
	data map[string][]byte, proxy *git.ProxyOptions) (auth *git.AuthOptions, identity string, err error) {
	req := gitprovider.Source{Provider: src.Spec.Provider, URL: u, Namespace: src.Namespace,
		ServiceAccountName: src.Spec.ServiceAccountName, Secret: data, Proxy: proxy}
	if ref := src.Spec.SecretRef; ref != nil {
		req.SecretName = ref.Name
	}
	providers := r.cfg.Providers
	if providers == nil {
		providers = &gitprovider.Resolver{}
	}
	auth, err = providers.Credentials(ctx, req)
	if err == nil {
		return auth, providers.Identity(req), nil
	}
	err = fmt.Errorf("GitRepository '%s/%s': %w", src.Namespace, src.Name, err)
	var perr *gitprovider.Error
	switch {
	case errors.As(err, &perr) && perr.Stalled:
		return nil, "", reconcile.Stall(perr.Reason, err)
	case errors.As(err, &perr):
		return nil, "", reconcile.Fail(perr.Reason, err)
	}
	return nil, "", reconcile.Fail(gitprovider.ReasonAuthenticationFailed, err)
}

// secretData reads a Secret the automation needs; a missing one is retried.
func (r *ImageUpdateAutomationReconciler) secretData(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	var sec corev1.Secret
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &sec); err != nil {
		return nil, reconcile.Fail(imagev1.SourceManagerFailedReason, fmt.Errorf("failed to get secret '%s/%s': %w", namespace, name, err))
	}
	return sec.Data, nil
}

// checkoutRef is spec.git.checkout.ref, else the GitRepository's spec.ref, else its default
// branch.
func checkoutRef(obj *imagev1.ImageUpdateAutomation, src *sourcev1.GitRepository) git.CheckoutRef {
	var out git.CheckoutRef
	if c := obj.Spec.GitSpec.Checkout; c != nil {
		ref := c.Reference
		out = git.CheckoutRef{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Name: ref.Name, Commit: ref.Commit}
	} else if ref := src.Spec.Reference; ref != nil {
		out = git.CheckoutRef{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Name: ref.Name, Commit: ref.Commit}
	}
	if out == (git.CheckoutRef{}) {
		out.Branch = sourcev1.GitDefaultBranch
	}
	return out
}

// getSigner reads spec.git.commit.signingKey's Secret.
func (r *ImageUpdateAutomationReconciler) getSigner(ctx context.Context, s *scope) (reconcile.Result, error) {
	key := s.obj.Spec.GitSpec.Commit.SigningKey
	if key == nil {
		return reconcile.Result{}, nil
	}
	data, err := r.secretData(ctx, s.obj.Namespace, key.SecretRef.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	if s.signer, err = update.NewSigner(key.Type, data); err != nil {
		var se *update.SigningError
		if errors.As(err, &se) {
			err = reconcile.Stall(imagev1.SourceManagerFailedReason, fmt.Errorf("secret '%s/%s': %w", s.obj.Namespace, key.SecretRef.Name, err))
		}
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, nil
}
