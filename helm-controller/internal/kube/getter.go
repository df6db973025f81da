// Package kube gives the Helm SDK its view of a cluster: a RESTClientGetter built from a
// *rest.Config (the controller's own, one impersonating spec.serviceAccountName, or a remote
// cluster's from spec.kubeConfig), the release storage (Helm's Secrets driver in the storage
// namespace, so `helm list`/`helm history` show the releases) and the persistentClient
// semantics of a HelmRelease.
package kube

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Getter is a genericclioptions.RESTClientGetter for one rest.Config and default
// namespace. Its discovery client and REST mapper are built once and cached in memory, so
// every Helm action that shares a Getter shares one discovery of the API. It is safe for
// concurrent use.
type Getter struct {
	config    *rest.Config
	namespace string

	mu        sync.Mutex
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.ResettableRESTMapper
}

// NewGetter returns a Getter for cfg whose default namespace (the namespace Helm puts
// namespaced objects without one in) is namespace. cfg is copied.
func NewGetter(cfg *rest.Config, namespace string) *Getter {
	return &Getter{config: rest.CopyConfig(cfg), namespace: namespace}
}

// Namespace returns the default namespace of the Getter.
func (g *Getter) Namespace() string { return g.namespace }

// ToRESTConfig returns a copy of the rest.Config.
func (g *Getter) ToRESTConfig() (*rest.Config, error) {
	return rest.CopyConfig(g.config), nil
}

// ToDiscoveryClient returns the memory-cached discovery client of the Getter.
func (g *Getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.discoveryLocked()
}

func (g *Getter) discoveryLocked() (discovery.CachedDiscoveryInterface, error) {
	if g.discovery != nil {
		return g.discovery, nil
	}
	cfg := rest.CopyConfig(g.config)
	// Discovery of a cluster with many CRDs issues a burst of requests; the defaults of
	// client-go (QPS 5) would throttle it for seconds.
	if cfg.Burst < 100 {
		cfg.Burst = 100
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	g.discovery = memory.NewMemCacheClient(dc)
	return g.discovery, nil
}

// ToRESTMapper returns the REST mapper of the Getter: deferred discovery through the
// cached discovery client, with kubectl's short names (deploy, svc, ...).
func (g *Getter) ToRESTMapper() (meta.RESTMapper, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mapper != nil {
		return g.mapper, nil
	}
	dc, err := g.discoveryLocked()
	if err != nil {
		return nil, err
	}
	deferred := restmapper.NewDeferredDiscoveryRESTMapper(dc)
	g.mapper = &resettableExpander{RESTMapper: restmapper.NewShortcutExpander(deferred, dc, nil), reset: deferred.Reset}
	return g.mapper, nil
}

// ToRawKubeConfigLoader returns a client config that only knows the default namespace:
// Helm reads the namespace from it, and everything else comes from the rest.Config.
func (g *Getter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	overrides := &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}}
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), overrides)
}

// Invalidate forgets what discovery learnt, so kinds added since (the CRDs a chart just
// installed) are found by the next lookup.
func (g *Getter) Invalidate() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.discovery != nil {
		g.discovery.Invalidate()
	}
	if g.mapper != nil {
		g.mapper.Reset()
	}
}

// resettableExpander is a shortcut-expanding mapper that can be reset.
type resettableExpander struct {
	meta.RESTMapper
	reset func()
}

func (r *resettableExpander) Reset() { r.reset() }

// Getter is what Helm's kube client and action configuration expect.
var _ genericclioptions.RESTClientGetter = (*Getter)(nil)
