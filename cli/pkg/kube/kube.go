// Package kube is the cluster side of the flux CLI that other front ends reuse: the clients
// (Client), server-side apply of the install components in dependency order, and the waits
// for CRDs and controller Deployments. It takes a *rest.Config, so a caller builds that from
// a kubeconfig, flags, or Terraform attributes as it likes.
package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/apis"
	"gotk.dev/pkg/lenient"
)

// ConnectTimeout bounds the first request to the cluster, so an address that swallows
// packets fails as fast as one that refuses them.
const ConnectTimeout = 15 * time.Second

// PollInterval is how often waits re-read the cluster.
const PollInterval = 500 * time.Millisecond

// FieldManager owns the fields flux applies; re-running install with other options changes
// exactly those fields (an upgrade), leaving fields others set alone.
const FieldManager = "flux"

// Client bundles the clients a command needs.
type Client struct {
	Config    *rest.Config
	Client    client.WithWatch
	Clientset kubernetes.Interface
	Scheme    *runtime.Scheme
	Mapper    meta.RESTMapper
}

// New builds the clients for cfg with every Flux kind in the scheme. No request is made
// until the first call.
func New(cfg *rest.Config) (*Client, error) {
	s, err := apis.NewScheme()
	if err != nil {
		return nil, err
	}
	// One Flux object with an unreadable field (an overflowing duration) must not break
	// listing every object of its kind.
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(lenient.Transport(apis.Groups()...))
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("cannot reach the cluster at %s: %w", cfg.Host, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{Config: cfg, Client: c, Clientset: cs, Scheme: s, Mapper: c.RESTMapper()}, nil
}

// ServerVersion asks the API server for its version within timeout: an unreachable or
// misconfigured cluster fails here, with its address, instead of deep inside a command.
func (k *Client) ServerVersion(ctx context.Context, timeout time.Duration) (*version.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := k.Clientset.Discovery().RESTClient().Get().AbsPath("/version").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the Kubernetes API server at %s: %w", k.Config.Host, err)
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("unexpected /version answer from the Kubernetes API server at %s: %w", k.Config.Host, err)
	}
	return &info, nil
}
