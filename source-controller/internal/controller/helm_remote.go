package controller

import (
	"context"
	"errors"
	"fmt"

	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth/cloud"
	cloudregistry "gotk.dev/pkg/auth/cloud/registry"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/chart"
	"gotk.dev/source-controller/internal/helm/indexcache"
	"gotk.dev/source-controller/internal/helm/ocirepo"
	"gotk.dev/source-controller/internal/helm/repository"
)

// helmRemotes builds chart repositories from HelmRepository objects: what a HelmChart pulls
// from, and what a chart dependency resolves through. HTTP repositories come with their
// stored index, parsed once per revision through the shared index cache.
type helmRemotes struct {
	client    client.Reader
	storage   *artifact.Storage
	cache     *indexcache.Cache
	limits    helm.Limits
	userAgent string
	// logins logs in to registries for a cloud spec.provider.
	logins *cloud.Logins
}

// errNoIndex says an HTTP HelmRepository has no stored index yet.
var errNoIndex = errors.New("no index artifact yet")

// repositorySecrets reads spec.secretRef and spec.certSecretRef of a HelmRepository (nil
// when unset). A Secret that cannot be read is an AuthenticationFailed failure naming it.
func repositorySecrets(ctx context.Context, c client.Reader, obj *sourcev1.HelmRepository) (auth, cert *repository.SecretData, err error) {
	read := func(field, name string) (*repository.SecretData, error) {
		data, err := secretData(ctx, c, obj.Namespace, name)
		if err != nil {
			return nil, reconcile.Fail(sourcev1.AuthenticationFailedReason,
				fmt.Errorf("failed to get secret '%s/%s' (%s of HelmRepository '%s'): %w", obj.Namespace, name, field, obj.Name, err))
		}
		return &repository.SecretData{Name: obj.Namespace + "/" + name, Data: data}, nil
	}
	if ref := obj.Spec.SecretRef; ref != nil {
		if auth, err = read("spec.secretRef", ref.Name); err != nil {
			return nil, nil, err
		}
	}
	if ref := obj.Spec.CertSecretRef; ref != nil {
		if cert, err = read("spec.certSecretRef", ref.Name); err != nil {
			return nil, nil, err
		}
	}
	return auth, cert, nil
}

// optionsError turns an option-building error into a typed one: a bad URL or provider needs
// a spec change (Stall), a bad Secret can be fixed without touching the object (Fail).
func optionsError(err error) error {
	var ue *repository.URLError
	var se *repository.SecretError
	switch {
	case errors.As(err, &ue):
		return reconcile.Stall(sourcev1.URLInvalidReason, err)
	case errors.As(err, &se):
		return reconcile.Fail(sourcev1.AuthenticationFailedReason, err)
	}
	return reconcile.Stall(sourcev1.InvalidProviderConfigurationReason, err)
}

// httpClient builds the client of an HTTP HelmRepository. Callers Close it.
func (h *helmRemotes) httpClient(ctx context.Context, obj *sourcev1.HelmRepository) (*repository.Client, error) {
	auth, cert, err := repositorySecrets(ctx, h.client, obj)
	if err != nil {
		return nil, err
	}
	opts, err := repository.OptionsFromSpec(&obj.Spec, auth, cert, h.limits)
	if err != nil {
		return nil, optionsError(err)
	}
	opts.UserAgent = h.userAgent
	c, err := repository.NewClient(*opts)
	if err != nil {
		return nil, optionsError(err)
	}
	return c, nil
}

// ociClient builds the client of an OCI HelmRepository. Callers Close it.
func (h *helmRemotes) ociClient(ctx context.Context, obj *sourcev1.HelmRepository) (*ocirepo.Client, error) {
	auth, cert, err := repositorySecrets(ctx, h.client, obj)
	if err != nil {
		return nil, err
	}
	opts, err := ocirepo.OptionsFromSpec(&obj.Spec, auth, cert, h.limits)
	if err != nil {
		return nil, optionsError(err)
	}
	// spec.secretRef wins; without it a cloud provider logs in with the cloud identity.
	if auth == nil && cloud.IsCloudProvider(obj.Spec.Provider) {
		host, err := oci.RegistryHost(obj.Spec.URL)
		if err != nil {
			return nil, reconcile.Stall(sourcev1.URLInvalidReason, err)
		}
		kc, err := cloudregistry.Keychain(ctx, h.logins, cloudregistry.Request{Provider: obj.Spec.Provider, Host: host,
			Namespace: obj.Namespace, Transport: opts.Transport(), Proxy: opts.ProxyURL})
		if err != nil {
			return nil, cloudLoginError(fmt.Errorf("HelmRepository '%s/%s': %w", obj.Namespace, obj.Name, err))
		}
		opts.Keychain = kc
	}
	opts.UserAgent = h.userAgent
	c, err := ocirepo.NewClient(*opts)
	if err != nil {
		return nil, optionsError(err)
	}
	return c, nil
}

// index returns the parsed index of an HTTP HelmRepository's current artifact, from the
// shared cache (one parse per repository revision, however many charts ask).
func (h *helmRemotes) index(ctx context.Context, obj *sourcev1.HelmRepository) (*repo.IndexFile, error) {
	a := obj.GetArtifact()
	if a == nil {
		return nil, errNoIndex
	}
	key := indexcache.Key{Repository: obj.Namespace + "/" + obj.Name, Revision: a.Revision}
	path := h.storage.LocalPath(a)
	return h.cache.Get(ctx, key, func() (*repo.IndexFile, error) {
		if path == "" {
			return nil, fmt.Errorf("invalid artifact path '%s'", a.Path)
		}
		return repository.LoadIndexFile(path, h.limits.MaxIndexSize)
	})
}

// chartRemote is a chart repository with a Close.
type chartRemote interface {
	chart.Remote
	Close()
}

// httpRemote is an HTTP repository with its loaded index.
type httpRemote struct{ *repository.ChartRepository }

func (r httpRemote) Close() { r.Client.Close() }

// remoteFor returns the chart repository a HelmRepository describes: its OCI registry, or its
// HTTP server with the stored index (fetched anew when it has none, for dependencies of
// repositories no HelmChart uses directly).
func (h *helmRemotes) remoteFor(ctx context.Context, obj *sourcev1.HelmRepository) (chartRemote, error) {
	if obj.IsOCI() {
		return h.ociClient(ctx, obj)
	}
	c, err := h.httpClient(ctx, obj)
	if err != nil {
		return nil, err
	}
	idx, err := h.index(ctx, obj)
	if errors.Is(err, errNoIndex) {
		var fetched *repository.Index
		if fetched, err = c.FetchIndex(ctx); err == nil {
			idx = fetched.File
		}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return httpRemote{&repository.ChartRepository{Client: c, Index: idx}}, nil
}
