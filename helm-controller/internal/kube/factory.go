package kube

import (
	"fmt"
	"sync"

	"helm.sh/helm/v3/pkg/action"
	helmkube "helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultFieldManager is the field manager the helm-controller writes objects as, the one
// upstream's controller uses.
const DefaultFieldManager = "helm-controller"

// UseFieldManager sets the field manager Helm's kube client writes objects as. Helm keeps
// it in a process-wide variable (helm.sh/helm/v3/pkg/kube.ManagedFieldsManager) and falls
// back to the name of the binary, so main calls this once before any action runs.
func UseFieldManager(name string) { helmkube.ManagedFieldsManager = name }

// FieldManager returns the field manager Helm writes objects as.
func FieldManager() string {
	if helmkube.ManagedFieldsManager != "" {
		return helmkube.ManagedFieldsManager
	}
	return DefaultFieldManager
}

// Factory builds the Helm action configurations of one HelmRelease reconciliation: every
// configuration talks to the cluster of Config, puts namespaced objects into Namespace
// (the release's target namespace) and keeps release records as Secrets in
// StorageNamespace.
//
// With Persistent (spec.persistentClient, the default), every configuration shares one
// Getter, Helm kube client and discovery cache, which saves the discovery requests of each
// action. Without it every configuration starts from fresh clients, which charts that create
// CRDs outside Helm's crds/ handling and use them in hooks may need.
type Factory struct {
	config           *rest.Config
	namespace        string
	storageNamespace string
	persistent       bool
	log              func(string, ...interface{})

	mu         sync.Mutex
	getter     *Getter
	client     *helmkube.Client
	validators *validatingFactory
	cs         kubernetes.Interface
}

// FactoryOptions are the optional settings of NewFactory.
type FactoryOptions struct {
	// Persistent shares one set of clients between all configurations (spec.persistentClient).
	Persistent bool
	// Log receives Helm's debug output; nil discards it.
	Log func(format string, args ...interface{})
}

// NewFactory returns a Factory for the cluster of cfg, the release namespace and the
// storage namespace.
func NewFactory(cfg *rest.Config, namespace, storageNamespace string, opts FactoryOptions) *Factory {
	log := opts.Log
	if log == nil {
		log = func(string, ...interface{}) {}
	}
	return &Factory{
		config:           rest.CopyConfig(cfg),
		namespace:        namespace,
		storageNamespace: storageNamespace,
		persistent:       opts.Persistent,
		log:              log,
	}
}

// Namespace is the namespace the release is installed into.
func (f *Factory) Namespace() string { return f.namespace }

// StorageNamespace is the namespace of the release records.
func (f *Factory) StorageNamespace() string { return f.storageNamespace }

// Getter returns the Getter of the next configuration: the shared one when persistent, a
// new one otherwise.
func (f *Factory) Getter() *Getter {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, _, _, _ := f.clientsLocked()
	return g
}

func (f *Factory) clientsLocked() (*Getter, *helmkube.Client, kubernetes.Interface, error) {
	if f.persistent && f.getter != nil {
		return f.getter, f.client, f.cs, nil
	}
	g := NewGetter(f.config, f.namespace)
	kc := helmkube.New(g)
	kc.Log = f.log
	kc.Namespace = f.namespace
	vf := &validatingFactory{Factory: kc.Factory}
	kc.Factory = vf
	cs, err := kubernetes.NewForConfig(f.config)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	if f.persistent {
		f.getter, f.client, f.validators, f.cs = g, kc, vf, cs
	}
	return g, kc, cs, nil
}

// Observer is told about every release record an action writes (created or updated), in
// the order written. It lets the caller record the history of what it did without reading
// the storage again.
type Observer func(rls *release.Release)

// Build returns a new Helm action configuration. observe, when not nil, is called with
// every release record the configuration's storage writes.
func (f *Factory) Build(observe Observer) (*action.Configuration, error) {
	f.mu.Lock()
	getter, kc, cs, err := f.clientsLocked()
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	secrets := driver.NewSecrets(cs.CoreV1().Secrets(f.storageNamespace))
	secrets.Log = f.log
	var d driver.Driver = secrets
	if observe != nil {
		d = &observingDriver{Driver: secrets, observe: observe}
	}
	store := storage.Init(d)
	store.Log = f.log
	return &action.Configuration{
		RESTClientGetter: getter,
		Releases:         store,
		KubeClient:       kc,
		Log:              f.log,
	}, nil
}

// Invalidate makes the shared discovery cache forget what it learnt (after CRDs were
// created or replaced). Non-persistent factories start each configuration fresh anyway.
func (f *Factory) Invalidate() {
	f.mu.Lock()
	g, vf := f.getter, f.validators
	f.mu.Unlock()
	if g != nil {
		g.Invalidate()
	}
	if vf != nil {
		vf.forget()
	}
}
