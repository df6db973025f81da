package cluster

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmanager "sigs.k8s.io/controller-runtime/pkg/manager"

	"gotk.dev/pkg/options"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/ssa"
)

// Options configure a Factory.
type Options struct {
	// Config is the controller's own client configuration.
	Config *rest.Config
	Scheme *runtime.Scheme
	// Mapper is the controller's REST mapper, shared by the clients of this cluster.
	Mapper apimeta.RESTMapper
	// Owner is the field manager (and annotation group) of the Targets' appliers.
	Owner ssa.Owner
	// DefaultServiceAccount is impersonated for objects that name none
	// (--default-service-account); empty acts as the controller.
	DefaultServiceAccount string
	// DefaultKubeconfigServiceAccount is the service account whose token reaches a remote
	// cluster of a configMapRef that names none (--default-kubeconfig-service-account).
	DefaultKubeconfigServiceAccount string
	// Kubeconfig is what tenants' kubeconfigs may use.
	Kubeconfig KubeconfigPolicy
	// FailureReason is the condition reason of errors (e.g. ReconciliationFailed).
	FailureReason string
	// RemoteIdleTimeout is how long a remote cluster's target is kept without use (its
	// kubeconfig's objects deleted or moved to another cluster); 0 means 15 minutes.
	RemoteIdleTimeout time.Duration
}

// Target is a cluster as one identity: a client, its configuration and an applier.
type Target struct {
	Client     client.Client
	Config     *rest.Config
	HTTPClient *http.Client
	Mapper     apimeta.RESTMapper
	Applier    *ssa.Manager
	// Remote is set for clusters other than the controller's own.
	Remote bool
	// Name describes the target in messages ("" for the controller's own cluster; the
	// kubeconfig's Secret or ConfigMap for a remote one).
	Name string
	// Key identifies the cluster, the identity and the kubeconfig version the target was
	// built from (health.RemoteCluster).
	Key string

	scheme *runtime.Scheme
}

// Request is what an object asks for.
type Request struct {
	// Namespace is the object's namespace: service accounts and kubeconfig references are
	// looked up there.
	Namespace string
	// ServiceAccountName is spec.serviceAccountName; on a remote cluster it is
	// impersonated there.
	ServiceAccountName string
	// KubeConfig is spec.kubeConfig; nil means the controller's own cluster.
	KubeConfig *meta.KubeConfigReference
}

// Factory hands out one Target per identity and keeps it.
type Factory struct {
	o          Options
	httpClient *http.Client
	// self is the controller's own client, for token requests.
	self client.Client

	mu sync.Mutex
	// builds makes concurrent first reconciles of one spoke share one build.
	builds  singleflight.Group
	targets map[string]*Target
	// remotes remember the resourceVersion each remote target was built from, so a changed
	// Secret replaces its target instead of adding one.
	remotes map[string]string
	// lastUsed is when each remote target was last handed out; lastSweep when idle ones
	// were last dropped.
	lastUsed  map[string]time.Time
	lastSweep time.Time
	tokens    map[string]saToken
	// selfIdentity is the controller's own user name, once looked up.
	selfIdentity string
}

// NewFactory builds a factory over the controller's own configuration.
func NewFactory(o Options) (*Factory, error) {
	hc, err := rest.HTTPClientFor(o.Config)
	if err != nil {
		return nil, err
	}
	if o.FailureReason == "" {
		o.FailureReason = meta.ReconciliationFailedReason
	}
	if o.RemoteIdleTimeout <= 0 {
		o.RemoteIdleTimeout = defaultRemoteIdleTimeout
	}
	self, err := client.New(o.Config, client.Options{Scheme: o.Scheme, Mapper: o.Mapper, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	return &Factory{o: o, httpClient: hc, self: self, targets: map[string]*Target{}, remotes: map[string]string{},
		lastUsed: map[string]time.Time{}, lastSweep: time.Now(), tokens: map[string]saToken{}}, nil
}

// For returns the target of req: a remote cluster for spec.kubeConfig, else this cluster as
// spec.serviceAccountName (or the default service account) impersonated, else as the
// controller. reader reads the kubeconfig Secret or ConfigMap.
func (f *Factory) For(ctx context.Context, reader client.Reader, req Request) (*Target, error) {
	if kc := req.KubeConfig; kc != nil {
		switch {
		case kc.SecretRef != nil:
			return f.fromSecret(ctx, reader, req)
		case kc.ConfigMapRef != nil:
			return f.fromConfigMap(ctx, reader, req)
		}
		// Falling back to the local cluster would apply what was meant for another one.
		return nil, reconcile.Stall(f.o.FailureReason, fmt.Errorf("spec.kubeConfig names neither a secretRef nor a configMapRef"))
	}
	sa := req.ServiceAccountName
	if sa == "" {
		sa = f.o.DefaultServiceAccount
	}
	key := "local"
	if sa != "" {
		key = "sa:" + req.Namespace + "/" + sa
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.targets[key]; ok {
		return t, nil
	}
	cfg, hc := f.o.Config, f.httpClient
	if sa != "" {
		cfg = rest.CopyConfig(f.o.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: ServiceAccountUser(req.Namespace, sa)}
		var err error
		if hc, err = rest.HTTPClientFor(cfg); err != nil {
			return nil, err
		}
	}
	t, err := f.newTarget(cfg, hc, f.o.Mapper, false, "")
	if err != nil {
		return nil, err
	}
	t.Key = key
	f.targets[key] = t
	return t, nil
}

// serviceAccountUserPrefix starts the user name of every service account.
const serviceAccountUserPrefix = "system:serviceaccount:"

// ServiceAccountUser is the user name of a service account, as impersonation needs it.
func ServiceAccountUser(namespace, name string) string {
	return serviceAccountUserPrefix + namespace + ":" + name
}

func (f *Factory) newTarget(cfg *rest.Config, hc *http.Client, mapper apimeta.RESTMapper, remote bool, name string) (*Target, error) {
	c, err := client.New(cfg, client.Options{Scheme: f.o.Scheme, Mapper: mapper, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	return &Target{Client: c, Config: cfg, HTTPClient: hc, Mapper: mapper, Applier: ssa.NewManager(c, f.o.Owner), Remote: remote, Name: name, scheme: f.o.Scheme}, nil
}

// FactoryOptions are the Options of a factory over mgr's configuration, scheme and mapper,
// with the identities and kubeconfig policy of flags, applying as owner.
func FactoryOptions(flags options.Cluster, mgr ctrlmanager.Manager, owner ssa.Owner) Options {
	return Options{
		Config:                          mgr.GetConfig(),
		Scheme:                          mgr.GetScheme(),
		Mapper:                          mgr.GetRESTMapper(),
		Owner:                           owner,
		DefaultServiceAccount:           flags.DefaultServiceAccount,
		DefaultKubeconfigServiceAccount: flags.DefaultKubeconfigServiceAccount,
		Kubeconfig:                      KubeconfigPolicy{AllowExec: flags.InsecureKubeconfigExec, AllowInsecureTLS: flags.InsecureKubeconfigTLS},
	}
}
