package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"gotk.dev/pkg/reconcile"
)

// remoteDialTimeout bounds connecting to a remote API server: a spoke whose address
// swallows packets fails a reconcile in seconds instead of holding a worker until the
// reconcile's timeout.
const remoteDialTimeout = 10 * time.Second

// ClusterKey identifies the cluster, identity and kubeconfig version of the target: the
// health tracker shares one watch per key.
func (t *Target) ClusterKey() string { return t.Key }

// NewCache builds a cache (not started) of the target's cluster over the target's HTTP
// client, mapper and scheme.
func (t *Target) NewCache(opts cache.Options) (cache.Cache, error) {
	opts.HTTPClient, opts.Mapper, opts.Scheme = t.HTTPClient, t.Mapper, t.scheme
	return cache.New(t.Config, opts)
}

// Reader reads from the target's API.
func (t *Target) Reader() client.Reader { return t.Client }

// remote returns the cached target of key built from version, or builds one with build.
// Concurrent calls for one key share one build (a hundred Kustomizations of a new spoke
// start at once); builds of other keys never wait for it, so an unreachable spoke holds up
// only its own objects.
func (f *Factory) remote(key, version string, build func() (remoteConfig, error), req Request) (*Target, error) {
	f.mu.Lock()
	f.sweepLocked()
	if t, ok := f.targets[key]; ok && f.remotes[key] == version {
		f.lastUsed[key] = time.Now()
		f.mu.Unlock()
		return t, nil
	}
	f.mu.Unlock()
	v, err, _ := f.builds.Do(key+"\x00"+version, func() (any, error) {
		f.mu.Lock()
		if t, ok := f.targets[key]; ok && f.remotes[key] == version {
			f.mu.Unlock()
			return t, nil
		}
		f.mu.Unlock()
		t, err := f.buildRemote(build, req)
		if err != nil {
			return nil, err
		}
		t.Key = key + "@" + version
		f.mu.Lock()
		if old := f.targets[key]; old != nil {
			old.HTTPClient.CloseIdleConnections()
		}
		f.targets[key], f.remotes[key], f.lastUsed[key] = t, version, time.Now()
		f.mu.Unlock()
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Target), nil
}

// defaultRemoteIdleTimeout is Options.RemoteIdleTimeout's default: far above any reconcile
// interval a fleet uses, so only a spoke nothing deploys to any more is dropped.
const defaultRemoteIdleTimeout = 15 * time.Minute

// sweepLocked drops the remote targets not handed out for RemoteIdleTimeout, at most once
// per half of it: the factory holds one target per spoke in use, not one per spoke ever
// seen. A health watch still running on a dropped target keeps it alive until its last
// waiter is done. f.mu is held.
func (f *Factory) sweepLocked() {
	now := time.Now()
	idle := f.o.RemoteIdleTimeout
	if now.Sub(f.lastSweep) < idle/2 {
		return
	}
	f.lastSweep = now
	for key, used := range f.lastUsed {
		if now.Sub(used) < idle {
			continue
		}
		if t := f.targets[key]; t != nil {
			t.HTTPClient.CloseIdleConnections()
		}
		delete(f.targets, key)
		delete(f.remotes, key)
		delete(f.lastUsed, key)
	}
}

// RemoteTargets is how many remote clusters' targets the factory holds: for tests and
// metrics.
func (f *Factory) RemoteTargets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.remotes)
}

// remoteConfig is what a kubeconfig Secret or ConfigMap says about a remote cluster.
type remoteConfig struct {
	cfg *rest.Config
	// name is the kubeconfig's object, for messages ("kubeconfig secret 'ns/name'").
	name string
	// credentials describe what the cluster is reached with, for the message of a refusal
	// ("the token of service account 'ns/sa' for audiences [...]"); never a credential.
	credentials string
	// hint says what the remote cluster needs to accept them.
	hint string
}

// buildRemote builds the client, mapper and applier of a remote cluster. Every error of
// its requests names the kubeconfig it came from, so a failing spoke is named in the
// owner's conditions and events.
func (f *Factory) buildRemote(build func() (remoteConfig, error), req Request) (*Target, error) {
	rc, err := build()
	if err != nil {
		return nil, err
	}
	cfg, name := rc.cfg, rc.name
	cfg.QPS, cfg.Burst = f.o.Config.QPS, f.o.Config.Burst
	cfg.UserAgent = f.o.Config.UserAgent
	if req.ServiceAccountName != "" {
		// The tenant's identity holds on the remote cluster too.
		cfg.Impersonate = rest.ImpersonationConfig{UserName: ServiceAccountUser(req.Namespace, req.ServiceAccountName)}
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: remoteDialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	refused := fmt.Sprintf("%s: the remote cluster at %s refused %s (401 Unauthorized)", name, cfg.Host, rc.credentials)
	if rc.hint != "" {
		refused += ": " + rc.hint
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return namingTransport{rt: rt, name: name, refused: refused}
	})
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, reconcile.Stall(f.o.FailureReason, fmt.Errorf("%s: %w", name, err))
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, hc)
	if err != nil {
		return nil, err
	}
	return f.newTarget(cfg, hc, mapper, true, name)
}

// namingTransport prefixes the errors of a remote cluster's requests with where the cluster
// came from ("remote cluster of kubeconfig secret 'hub/spoke-a': dial tcp ..."), and turns
// the cluster's refusal of the credentials into an error saying which kubeconfig, address
// and identity it refused: the API server's own answer is a bare "Unauthorized".
type namingTransport struct {
	rt      http.RoundTripper
	name    string
	refused string
}

func (n namingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := n.rt.RoundTrip(r)
	if err != nil {
		return nil, fmt.Errorf("remote cluster of %s: %w", n.name, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, errors.New(n.refused)
	}
	return resp, nil
}

// fromSecret builds the target of spec.kubeConfig.secretRef.
func (f *Factory) fromSecret(ctx context.Context, reader client.Reader, req Request) (*Target, error) {
	ref := req.KubeConfig.SecretRef
	var secret corev1.Secret
	key := types.NamespacedName{Namespace: req.Namespace, Name: ref.Name}
	if err := reader.Get(ctx, key, &secret); err != nil {
		return nil, reconcile.Fail(f.o.FailureReason, fmt.Errorf("failed to get kubeconfig secret '%s': %w", key, err))
	}
	dataKey := ref.Key
	if dataKey == "" {
		dataKey = "value"
		if _, ok := secret.Data[dataKey]; !ok {
			if _, ok := secret.Data["value.yaml"]; ok {
				dataKey = "value.yaml"
			}
		}
	}
	name := fmt.Sprintf("kubeconfig secret '%s'", key)
	cacheKey := fmt.Sprintf("secret:%s:%s:%s", key, dataKey, req.ServiceAccountName)
	return f.remote(cacheKey, secret.ResourceVersion, func() (remoteConfig, error) {
		data := secret.Data[dataKey]
		if len(data) == 0 {
			return remoteConfig{}, reconcile.Stall(f.o.FailureReason, fmt.Errorf("%s has no key '%s'", name, dataKey))
		}
		cfg, err := RESTConfigFromKubeconfig(data, f.o.Kubeconfig)
		if err != nil {
			return remoteConfig{}, reconcile.Stall(f.o.FailureReason, fmt.Errorf("%s key '%s': %w", name, dataKey, err))
		}
		return remoteConfig{cfg: cfg, name: name, credentials: fmt.Sprintf("the credentials of key '%s'", dataKey)}, nil
	}, req)
}
