package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/pkg/cluster"
	"gotk.dev/pkg/reconcile"
)

const restClientErrorReason = "RESTClientError"

// getTarget resolves the cluster and identity the release is made in: the controller, the
// impersonated spec.serviceAccountName (or --default-service-account), or the remote
// cluster of spec.kubeConfig, sanitised as for Kustomizations.
func (r *HelmReleaseReconciler) getTarget(ctx context.Context, s *scope) (reconcile.Result, error) {
	t, err := r.clusters.For(ctx, r.Client, clusterRequest(s.obj))
	if err != nil {
		var st *reconcile.Stalling
		if errors.As(err, &st) {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, reconcile.Fail(restClientErrorReason, err)
	}
	s.target = t
	return reconcile.Result{}, nil
}

// factories keeps the Helm configuration factories of every target, release namespace
// and storage namespace, so discovery (a few dozen requests) runs once per identity and
// namespace pair instead of once per reconcile. A target built anew (a changed kubeconfig
// Secret) has a new rest.Config and so gets new factories.
type factories struct {
	mu sync.Mutex
	m  map[factoryKey]*kube.Factory
}

type factoryKey struct {
	config             *rest.Config
	namespace, storage string
	persistent         bool
}

// maxFactories bounds the kept factories; beyond it they are all dropped (and rebuilt on
// use), which only costs discovery again.
const maxFactories = 512

func newFactories() *factories { return &factories{m: map[factoryKey]*kube.Factory{}} }

// get returns the factory of target for the namespaces; non-persistent factories are built
// for each call, as spec.persistentClient=false asks.
func (f *factories) get(ctx context.Context, t *cluster.Target, namespace, storage string, persistent bool) *kube.Factory {
	if !persistent {
		log := ctrl.LoggerFrom(ctx).V(2)
		return kube.NewFactory(t.Config, namespace, storage, kube.FactoryOptions{Log: func(format string, args ...interface{}) {
			log.Info(fmt.Sprintf(format, args...))
		}})
	}
	key := factoryKey{config: t.Config, namespace: namespace, storage: storage, persistent: persistent}
	f.mu.Lock()
	defer f.mu.Unlock()
	if kf, ok := f.m[key]; ok {
		return kf
	}
	if len(f.m) >= maxFactories {
		f.m = map[factoryKey]*kube.Factory{}
	}
	// The log of a kept factory is not the reconcile's: Helm's debug output goes to the
	// controller's logger at trace level.
	kf := kube.NewFactory(t.Config, namespace, storage, kube.FactoryOptions{Persistent: true, Log: func(format string, args ...interface{}) {
		ctrl.Log.WithName("helm").V(2).Info(fmt.Sprintf(format, args...))
	}})
	f.m[key] = kf
	return kf
}

// invalidate makes every kept factory forget its discovery (after a Helm action failed on
// a kind it did not know: a CRD someone else installed meanwhile).
func (f *factories) invalidate() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, kf := range f.m {
		kf.Invalidate()
	}
}
