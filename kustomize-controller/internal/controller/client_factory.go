package controller

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/ssa"
)

// targetCluster is where a Kustomization applies: this cluster as the controller or as a
// service account, or a remote cluster from a kubeconfig.
type targetCluster struct {
	client  client.Client
	applier *ssa.Manager
	remote  bool
}

// ClientFactory hands out one client per identity and keeps it: building a client per
// reconcile would cost a discovery round trip each time, and the applier remembers what it
// applied (resource versions) to report changes without extra reads.
type ClientFactory struct {
	config       *rest.Config
	scheme       *runtime.Scheme
	mapper       apimeta.RESTMapper
	httpClient   *http.Client
	defaultSA    string
	insecureExec bool

	mu      sync.Mutex
	targets map[string]*targetCluster
}

// NewClientFactory builds a factory over the controller's own config and REST mapper.
func NewClientFactory(cfg *rest.Config, scheme *runtime.Scheme, mapper apimeta.RESTMapper, defaultSA string, insecureExec bool) (*ClientFactory, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	return &ClientFactory{config: cfg, scheme: scheme, mapper: mapper, httpClient: hc, defaultSA: defaultSA,
		insecureExec: insecureExec, targets: map[string]*targetCluster{}}, nil
}

// For returns the target of obj: spec.kubeConfig, else spec.serviceAccountName (or
// --default-service-account) impersonated, else the controller itself.
func (f *ClientFactory) For(ctx context.Context, reader client.Reader, obj *kustomizev1.Kustomization) (*targetCluster, error) {
	if kc := obj.Spec.KubeConfig; kc != nil {
		if kc.SecretRef == nil {
			// Falling back to the local cluster would apply what was meant for another one.
			return nil, reconcile.Stall(reconciliationFailedReason, fmt.Errorf("spec.kubeConfig.configMapRef (workload identity) is not supported; use spec.kubeConfig.secretRef"))
		}
		return f.remote(ctx, reader, obj)
	}
	sa := obj.Spec.ServiceAccountName
	if sa == "" {
		sa = f.defaultSA
	}
	key := "local"
	if sa != "" {
		key = "sa:" + obj.Namespace + "/" + sa
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.targets[key]; ok {
		return t, nil
	}
	cfg, hc := f.config, f.httpClient
	if sa != "" {
		cfg = rest.CopyConfig(f.config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", obj.Namespace, sa)}
		var err error
		if hc, err = rest.HTTPClientFor(cfg); err != nil {
			return nil, err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: f.scheme, Mapper: f.mapper, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	t := &targetCluster{client: c, applier: ssa.NewManager(c, ssa.Owner{Field: "kustomize-controller", Group: kustomizev1.GroupVersion.Group})}
	f.targets[key] = t
	return t, nil
}

// remote builds (and caches by the Secret's resourceVersion) a client for the kubeconfig in
// spec.kubeConfig.secretRef. Kubeconfigs running exec plugins are refused unless
// --insecure-kubeconfig-exec: they would run arbitrary commands inside the controller.
func (f *ClientFactory) remote(ctx context.Context, reader client.Reader, obj *kustomizev1.Kustomization) (*targetCluster, error) {
	ref := obj.Spec.KubeConfig.SecretRef
	var secret corev1.Secret
	key := types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}
	if err := reader.Get(ctx, key, &secret); err != nil {
		return nil, reconcile.FailAfter(reconciliationFailedReason, fmt.Errorf("failed to get kubeconfig secret '%s': %w", key, err), retryAfter(obj))
	}
	cacheKey := "remote:" + key.String() + "@" + secret.ResourceVersion
	f.mu.Lock()
	if t, ok := f.targets[cacheKey]; ok {
		f.mu.Unlock()
		return t, nil
	}
	f.mu.Unlock()

	var data []byte
	if ref.Key != "" {
		data = secret.Data[ref.Key]
	} else if v, ok := secret.Data["value"]; ok {
		data = v
	} else {
		data = secret.Data["value.yaml"]
	}
	if len(data) == 0 {
		return nil, reconcile.Stall(reconciliationFailedReason, fmt.Errorf("kubeconfig secret '%s' has no key '%s'", key, firstNonEmpty(ref.Key, "value")))
	}
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, reconcile.Stall(reconciliationFailedReason, fmt.Errorf("kubeconfig secret '%s' is not a valid kubeconfig", key))
	}
	if !f.insecureExec {
		for name, ai := range raw.AuthInfos {
			if ai.Exec != nil {
				return nil, reconcile.Stall(reconciliationFailedReason, fmt.Errorf("kubeconfig secret '%s': user '%s' uses an exec plugin, which is not allowed (--insecure-kubeconfig-exec)", key, name))
			}
		}
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, reconcile.Stall(reconciliationFailedReason, fmt.Errorf("kubeconfig secret '%s': %w", key, err))
	}
	cfg.QPS, cfg.Burst = f.config.QPS, f.config.Burst
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, hc)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: f.scheme, Mapper: mapper, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	t := &targetCluster{client: c, applier: ssa.NewManager(c, ssa.Owner{Field: "kustomize-controller", Group: kustomizev1.GroupVersion.Group}), remote: true}
	f.mu.Lock()
	f.targets[cacheKey] = t
	f.mu.Unlock()
	return t, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
