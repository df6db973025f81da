package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/authn"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/registry"
	"gotk.dev/pkg/auth/cloud"
	cloudregistry "gotk.dev/pkg/auth/cloud/registry"
	"gotk.dev/pkg/reconcile"
)

// InvalidProviderConfigurationReason means spec.provider cannot serve spec.image (an aws
// provider for a registry that is not ECR): the user has to change one of them.
const InvalidProviderConfigurationReason = "InvalidProviderConfiguration"

// checkProvider stalls repositories whose cloud spec.provider cannot log in to the
// registry of spec.image. It makes no request.
func checkProvider(repo *imagev1.ImageRepository, img registry.Image) error {
	p := repo.GetProvider()
	if !cloud.IsCloudProvider(p) {
		return nil
	}
	if err := cloudregistry.CheckHost(p, img.Repository.RegistryStr()); err != nil {
		return reconcile.Stall(InvalidProviderConfigurationReason, err)
	}
	return nil
}

// cloudKeychain logs in to the registry of spec.image with the cloud identity of
// spec.provider, through the repository's TLS and proxy settings: spec.proxySecretRef's
// proxy carries the exchanges with the cloud too.
func (c Config) cloudKeychain(ctx context.Context, repo *imagev1.ImageRepository, opts registry.Options) (authn.Keychain, error) {
	img, err := registry.ParseImage(repo.Spec.Image, repo.Spec.Insecure)
	if err != nil {
		return nil, reconcile.Stall(imagev1.ImageURLInvalidReason, err)
	}
	tr, err := opts.HTTPTransport()
	if err != nil {
		return nil, reconcile.Stall(imagev1.AuthenticationFailedReason, fmt.Errorf("ImageRepository '%s/%s': %w", repo.Namespace, repo.Name, err))
	}
	proxy, err := opts.Proxy()
	if err != nil {
		return nil, reconcile.Stall(imagev1.AuthenticationFailedReason, fmt.Errorf("ImageRepository '%s/%s': %w", repo.Namespace, repo.Name, err))
	}
	logins := c.CloudLogins
	if logins == nil {
		logins = &cloud.Logins{}
	}
	kc, err := cloudregistry.Keychain(ctx, logins, cloudregistry.Request{Provider: repo.GetProvider(), Host: img.Repository.RegistryStr(),
		Namespace: repo.Namespace, ServiceAccount: repo.Spec.ServiceAccountName, Transport: tr, Proxy: proxy})
	switch {
	case err == nil:
		return kc, nil
	case errors.Is(err, cloud.ErrObjectLevelDisabled):
		return nil, reconcile.Stall(meta.FeatureGateDisabledReason, err)
	case cloud.IsHostError(err):
		return nil, reconcile.Stall(InvalidProviderConfigurationReason, err)
	}
	return nil, reconcile.Fail(imagev1.AuthenticationFailedReason, fmt.Errorf("ImageRepository '%s/%s': %w", repo.Namespace, repo.Name, err))
}

// newRegistryClient builds the registry client of repo from its Secrets: spec.secretRef's
// docker config first; else, for a cloud spec.provider, a login with the cloud identity;
// else the docker configs of the service account's imagePullSecrets; then
// spec.certSecretRef and spec.proxySecretRef. A Secret that cannot be read is a transient
// failure; one whose content cannot be used stalls until it or the spec changes. Errors name
// the Secret and key, never a value.
func (c Config) newRegistryClient(ctx context.Context, r client.Reader, repo *imagev1.ImageRepository) (*registry.Client, error) {
	ns := repo.Namespace
	opts := registry.Options{Insecure: repo.Spec.Insecure, UserAgent: c.UserAgent, Transport: c.Transport}
	get := func(what, name string) (map[string][]byte, error) {
		data, err := secretData(ctx, r, ns, name)
		if err != nil {
			return nil, reconcile.Fail(imagev1.AuthenticationFailedReason, fmt.Errorf("failed to get %s '%s/%s': %w", what, ns, name, err))
		}
		return data, nil
	}
	if ref := repo.Spec.SecretRef; ref != nil {
		data, err := get("secret", ref.Name)
		if err != nil {
			return nil, err
		}
		cfg, ok := data[corev1.DockerConfigJsonKey]
		if !ok {
			return nil, reconcile.Stall(imagev1.AuthenticationFailedReason, fmt.Errorf(
				"secret '%s/%s' has no '%s' key: create it with kubectl create secret docker-registry", ns, ref.Name, corev1.DockerConfigJsonKey))
		}
		opts.DockerConfigs = append(opts.DockerConfigs, cfg)
	}
	cloudLogin := repo.Spec.SecretRef == nil && cloud.IsCloudProvider(repo.GetProvider())
	if sa := repo.Spec.ServiceAccountName; sa != "" && !cloudLogin {
		var account corev1.ServiceAccount
		if err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: sa}, &account); err != nil {
			return nil, reconcile.Fail(imagev1.AuthenticationFailedReason, fmt.Errorf("failed to get service account '%s/%s': %w", ns, sa, err))
		}
		for _, ps := range account.ImagePullSecrets {
			data, err := get("image pull secret of service account '"+sa+"'", ps.Name)
			if err != nil {
				return nil, err
			}
			if cfg, ok := data[corev1.DockerConfigJsonKey]; ok {
				opts.DockerConfigs = append(opts.DockerConfigs, cfg)
			}
		}
	}
	if ref := repo.Spec.CertSecretRef; ref != nil {
		data, err := get("TLS secret", ref.Name)
		if err != nil {
			return nil, err
		}
		opts.CertSecretData = data
	}
	if ref := repo.Spec.ProxySecretRef; ref != nil {
		data, err := get("proxy secret", ref.Name)
		if err != nil {
			return nil, err
		}
		opts.ProxySecretData = data
	}
	if cloudLogin {
		kc, err := c.cloudKeychain(ctx, repo, opts)
		if err != nil {
			return nil, err
		}
		opts.Keychain = kc
	}
	rc, err := registry.NewClient(opts)
	if err != nil {
		return nil, reconcile.Stall(imagev1.AuthenticationFailedReason, fmt.Errorf("ImageRepository '%s/%s': %w", ns, repo.Name, err))
	}
	return rc, nil
}
