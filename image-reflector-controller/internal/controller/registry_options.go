package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/registry"
	"gotk.dev/pkg/reconcile"
)

// ProviderNotSupportedReason means spec.provider names a cloud identity this controller
// does not implement yet; the user has to switch to generic credentials.
const ProviderNotSupportedReason = "ProviderNotSupported"

// checkProvider stalls repositories that ask for a cloud workload identity.
func checkProvider(repo *imagev1.ImageRepository) error {
	if p := repo.GetProvider(); p != imagev1.GenericProvider {
		return reconcile.Stall(ProviderNotSupportedReason, fmt.Errorf(
			"provider '%s' (cloud workload identity) is not supported yet: use provider 'generic' with spec.secretRef or spec.serviceAccountName", p))
	}
	return nil
}

// newRegistryClient builds the registry client of repo from its Secrets: spec.secretRef's
// docker config first, then those of the service account's imagePullSecrets,
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
	if sa := repo.Spec.ServiceAccountName; sa != "" {
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
	rc, err := registry.NewClient(opts)
	if err != nil {
		return nil, reconcile.Stall(imagev1.AuthenticationFailedReason, fmt.Errorf("ImageRepository '%s/%s': %w", ns, repo.Name, err))
	}
	return rc, nil
}
