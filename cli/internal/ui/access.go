package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Viewer is the person a request acts for.
type Viewer struct {
	// User and Groups are who the server impersonates in cluster mode; in local mode they
	// are empty and the kubeconfig's identity acts.
	User   string   `json:"user,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

func (v Viewer) key() string { return v.User + "\x00" + strings.Join(v.Groups, "\x00") }

// Clients are the API clients acting as one viewer.
type Clients struct {
	Client    client.Client
	Discovery discovery.DiscoveryInterface
}

// Access gives each viewer clients that act with exactly the viewer's rights, and says
// which objects of the shared hub the viewer may see.
type Access interface {
	Clients(v Viewer) (*Clients, error)
	// CanList reports whether v may list resource in namespace (the overview shows an
	// object only then).
	CanList(ctx context.Context, v Viewer, group, resource, namespace string) bool
}

// LocalAccess is flux ui on a workstation: one identity, the kubeconfig's. The hub watches
// with it, so everything in the hub is visible.
type LocalAccess struct{ clients *Clients }

// NewLocalAccess uses cfg's identity for every request.
func NewLocalAccess(cfg *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper) (*LocalAccess, error) {
	c, err := newClients(cfg, scheme, mapper)
	if err != nil {
		return nil, err
	}
	return &LocalAccess{clients: c}, nil
}

// Clients returns the kubeconfig's clients.
func (a *LocalAccess) Clients(Viewer) (*Clients, error) { return a.clients, nil }

// CanList is always true: the hub only holds what the kubeconfig's identity may list.
func (a *LocalAccess) CanList(context.Context, Viewer, string, string, string) bool { return true }

// ImpersonatingAccess is the in-cluster server: requests act as the signed-in person through
// Kubernetes impersonation, and reads from the shared hub are filtered by
// SubjectAccessReviews, so the UI never has more rights than the person using it.
type ImpersonatingAccess struct {
	base   *rest.Config
	scheme *runtime.Scheme
	mapper meta.RESTMapper
	cs     kubernetes.Interface
	ttl    time.Duration

	mu      sync.Mutex
	clients map[string]*Clients
	reviews map[string]review
}

type review struct {
	allowed bool
	at      time.Time
}

// NewImpersonatingAccess acts as viewers through base (the server's own identity, which may
// impersonate users and groups and create SubjectAccessReviews). Access decisions are
// cached for ttl.
func NewImpersonatingAccess(base *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper, ttl time.Duration) (*ImpersonatingAccess, error) {
	cs, err := kubernetes.NewForConfig(base)
	if err != nil {
		return nil, err
	}
	return &ImpersonatingAccess{base: base, scheme: scheme, mapper: mapper, cs: cs, ttl: ttl,
		clients: map[string]*Clients{}, reviews: map[string]review{}}, nil
}

// Clients returns clients impersonating v (cached per identity).
func (a *ImpersonatingAccess) Clients(v Viewer) (*Clients, error) {
	if v.User == "" {
		return nil, fmt.Errorf("not signed in")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[v.key()]; ok {
		return c, nil
	}
	cfg := rest.CopyConfig(a.base)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: v.User, Groups: v.Groups}
	c, err := newClients(cfg, a.scheme, a.mapper)
	if err != nil {
		return nil, err
	}
	a.clients[v.key()] = c
	return c, nil
}

// CanList asks the API server whether v may list resource in namespace: first cluster-wide
// (one review covers every namespace), then in the namespace.
func (a *ImpersonatingAccess) CanList(ctx context.Context, v Viewer, group, resource, namespace string) bool {
	if v.User == "" {
		return false
	}
	return a.allowed(ctx, v, group, resource, "") || a.allowed(ctx, v, group, resource, namespace)
}

func (a *ImpersonatingAccess) allowed(ctx context.Context, v Viewer, group, resource, namespace string) bool {
	key := v.key() + "\x01" + group + "/" + resource + "/" + namespace
	a.mu.Lock()
	r, ok := a.reviews[key]
	a.mu.Unlock()
	if ok && time.Since(r.at) < a.ttl {
		return r.allowed
	}
	groups := append([]string(nil), v.Groups...)
	sort.Strings(groups)
	res, err := a.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User: v.User, Groups: groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: "list", Group: group, Resource: resource},
		},
	}, metav1.CreateOptions{})
	allowed := err == nil && res.Status.Allowed
	if err == nil {
		a.mu.Lock()
		a.reviews[key] = review{allowed: allowed, at: time.Now()}
		a.mu.Unlock()
	}
	return allowed
}

func newClients(cfg *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper) (*Clients, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme, Mapper: mapper, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	return &Clients{Client: c, Discovery: dc}, nil
}

// apiError is an API failure as the browser gets it: the status code the API server gave
// (403 when RBAC refused, 404) and the message.
func apiError(err error) int {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		if code := se.Status().Code; code >= 400 {
			return int(code)
		}
	}
	return http.StatusInternalServerError
}
