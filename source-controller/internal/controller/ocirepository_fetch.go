package controller

import (
	"context"
	"fmt"
	"net/url"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"gotk.dev/pkg/auth/cloud"
	cloudregistry "gotk.dev/pkg/auth/cloud/registry"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// reconcileSource resolves spec.ref to a manifest digest: one HEAD request for a tag. When the
// stored artifact already holds that revision and the layer selection and ignore rules are
// unchanged, nothing is pulled.
func (r *OCIRepositoryReconciler) reconcileSource(ctx context.Context, s *ociScope) (reconcile.Result, error) {
	return reconcile.Result{}, r.resolve(ctx, s)
}

func (r *OCIRepositoryReconciler) resolve(ctx context.Context, s *ociScope) error {
	obj := s.obj
	if _, err := oci.ParseURL(obj.Spec.URL); err != nil {
		return failOCIFetch(obj, reconcile.Stall(sourcev1.URLInvalidReason, err))
	}
	// The client's calls take the oci:// URL itself, not ParseURL's scheme-less form.
	s.repoURL = obj.Spec.URL
	opts, err := r.clientOptions(ctx, obj)
	if err != nil {
		return failOCIFetch(obj, err)
	}
	if s.client, err = r.NewClient(opts); err != nil {
		return failOCIFetch(obj, reconcile.Stall(sourcev1.AuthenticationFailedReason, err))
	}
	s.resolved, err = s.client.ResolveRef(ctx, s.repoURL, ociRef(obj.Spec.Reference))
	if err != nil {
		return failOCIFetch(obj, reconcile.Fail(sourcev1.OCIPullFailedReason,
			fmt.Errorf("failed to determine artifact digest: %w", err)))
	}
	s.revision = s.resolved.Revision()
	reconcile.DeleteCondition(obj, sourcev1.FetchFailedCondition)

	if a := obj.Status.Artifact; a != nil {
		if a.Revision == s.revision && equalStringPtr(obj.Status.ObservedIgnore, obj.Spec.Ignore) &&
			equalLayerSelector(obj.Status.ObservedLayerSelector, obj.Spec.LayerSelector) {
			s.upToDate = true
			return nil
		}
		reconcile.MarkTrue(obj, sourcev1.ArtifactOutdatedCondition, sourcev1.NewRevisionReason,
			fmt.Sprintf("new revision '%s' for '%s'", s.revision, obj.Spec.URL))
	}
	return nil
}

// clientOptions builds registry credentials (spec.secretRef; else, for a cloud
// spec.provider, a login with the cloud identity; else the service account's
// imagePullSecrets), TLS (spec.certSecretRef), proxy and plain-HTTP settings.
func (r *OCIRepositoryReconciler) clientOptions(ctx context.Context, obj *sourcev1.OCIRepository) (oci.ClientOptions, error) {
	opts := oci.ClientOptions{Insecure: obj.Spec.Insecure, UserAgent: r.UserAgent}
	var configs [][]byte
	if ref := obj.Spec.SecretRef; ref != nil {
		data, err := secretData(ctx, r.Client, obj.Namespace, ref.Name)
		if err != nil {
			return opts, reconcile.Fail(sourcev1.AuthenticationFailedReason, fmt.Errorf("failed to get secret '%s/%s': %w", obj.Namespace, ref.Name, err))
		}
		cfg, ok := data[corev1.DockerConfigJsonKey]
		if !ok {
			return opts, reconcile.Stall(sourcev1.AuthenticationFailedReason,
				fmt.Errorf("secret '%s/%s' has no '%s' key: create it with type kubernetes.io/dockerconfigjson", obj.Namespace, ref.Name, corev1.DockerConfigJsonKey))
		}
		configs = append(configs, cfg)
	}
	cloudLogin := obj.Spec.SecretRef == nil && cloud.IsCloudProvider(obj.Spec.Provider)
	if sa := obj.Spec.ServiceAccountName; sa != "" && !cloudLogin {
		var account corev1.ServiceAccount
		if err := r.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: sa}, &account); err != nil {
			return opts, reconcile.Fail(sourcev1.AuthenticationFailedReason, fmt.Errorf("failed to get service account '%s/%s': %w", obj.Namespace, sa, err))
		}
		for _, ps := range account.ImagePullSecrets {
			data, err := secretData(ctx, r.Client, obj.Namespace, ps.Name)
			if err != nil {
				return opts, reconcile.Fail(sourcev1.AuthenticationFailedReason, fmt.Errorf("failed to get image pull secret '%s/%s' of service account '%s': %w", obj.Namespace, ps.Name, sa, err))
			}
			if cfg, ok := data[corev1.DockerConfigJsonKey]; ok {
				configs = append(configs, cfg)
			}
		}
	}
	if len(configs) > 0 {
		kc, err := oci.KeychainFromDockerConfigs(configs...)
		if err != nil {
			return opts, reconcile.Stall(sourcev1.AuthenticationFailedReason, err)
		}
		opts.Keychain = kc
	} else {
		opts.Keychain = authn.NewMultiKeychain()
	}
	if ref := obj.Spec.CertSecretRef; ref != nil {
		data, err := secretData(ctx, r.Client, obj.Namespace, ref.Name)
		if err != nil {
			return opts, reconcile.Fail(sourcev1.AuthenticationFailedReason, fmt.Errorf("failed to get TLS secret '%s/%s': %w", obj.Namespace, ref.Name, err))
		}
		if opts.TLSConfig, err = oci.TLSConfigFromSecret(data); err != nil {
			return opts, reconcile.Stall(sourcev1.AuthenticationFailedReason, fmt.Errorf("secret '%s/%s': %w", obj.Namespace, ref.Name, err))
		}
	}
	if ref := obj.Spec.ProxySecretRef; ref != nil {
		data, err := secretData(ctx, r.Client, obj.Namespace, ref.Name)
		if err != nil {
			return opts, reconcile.Fail(sourcev1.AuthenticationFailedReason, fmt.Errorf("failed to get proxy secret '%s/%s': %w", obj.Namespace, ref.Name, err))
		}
		p, err := git.NewProxyOptions(data)
		if err != nil {
			return opts, reconcile.Stall(sourcev1.AuthenticationFailedReason, fmt.Errorf("invalid proxy secret '%s/%s': %w", obj.Namespace, ref.Name, err))
		}
		u, _ := url.Parse(p.URL)
		if p.Username != "" {
			u.User = url.UserPassword(p.Username, p.Password)
		}
		opts.Proxy = u
	}
	if cloudLogin {
		kc, err := r.cloudKeychain(ctx, obj, opts)
		if err != nil {
			return opts, err
		}
		opts.Keychain = kc
	}
	return opts, nil
}

// cloudKeychain logs in to the registry of spec.url with the cloud identity spec.provider
// names, through the registry's own TLS and proxy settings (the exchanges with the cloud
// go through spec.proxySecretRef's proxy too).
func (r *OCIRepositoryReconciler) cloudKeychain(ctx context.Context, obj *sourcev1.OCIRepository, opts oci.ClientOptions) (authn.Keychain, error) {
	host, err := oci.RegistryHost(obj.Spec.URL)
	if err != nil {
		return nil, reconcile.Stall(sourcev1.URLInvalidReason, err)
	}
	tr, err := opts.HTTPTransport()
	if err != nil {
		return nil, reconcile.Stall(sourcev1.AuthenticationFailedReason, err)
	}
	kc, err := cloudregistry.Keychain(ctx, r.CloudLogins, cloudregistry.Request{Provider: obj.Spec.Provider, Host: host,
		Namespace: obj.Namespace, ServiceAccount: obj.Spec.ServiceAccountName, Transport: tr, Proxy: opts.Proxy})
	return kc, cloudLoginError(err)
}

func ociRef(ref *sourcev1.OCIRepositoryRef) oci.Ref {
	if ref == nil {
		return oci.Ref{}
	}
	return oci.Ref{Tag: ref.Tag, SemVer: ref.SemVer, SemverFilter: ref.SemverFilter, Digest: ref.Digest}
}

func equalLayerSelector(a, b *sourcev1.OCILayerSelector) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// failOCIFetch marks FetchFailed=True with the error's reason and returns the error unchanged.
func failOCIFetch(obj *sourcev1.OCIRepository, err error) error {
	reconcile.MarkTrue(obj, sourcev1.FetchFailedCondition, reasonOf(err), err.Error())
	return err
}

func ociLayerSelector(sel *sourcev1.OCILayerSelector) oci.LayerSelector {
	return oci.LayerSelector{MediaType: sel.MediaType, Operation: sel.Operation}
}
