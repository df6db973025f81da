package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/notification-controller/api/v1beta3"
	"gotk.dev/notification-controller/internal/dispatch"
	"gotk.dev/notification-controller/internal/notifier"
)

// DefaultSecretTTL is how long a Provider's resolved Secrets are reused before they are read
// again, so a rotated token reaches deliveries within it without a read per event.
const DefaultSecretTTL = time.Minute

// ProviderRegistry builds and keeps the notifiers of Providers: one resolution of a Provider's
// Secrets per resourceVersion (and at most every DefaultSecretTTL), and one notifier per
// Provider and Alert (the Alert is part of a commit status ID's CEL environment), so HTTP
// connections are reused across events. Safe for concurrent use.
type ProviderRegistry struct {
	reader client.Reader
	ttl    time.Duration
	now    func() time.Time
	// closeAfter is how long a replaced notifier holding a connection stays open, so the
	// events already queued for it are delivered.
	closeAfter time.Duration

	mu      sync.Mutex
	entries map[types.NamespacedName]*providerEntry
}

type providerEntry struct {
	resourceVersion string
	resolvedAt      time.Time
	opts            notifier.Options
	err             error

	mu        sync.Mutex
	notifiers map[alertVersion]notifier.Notifier
}

// alertVersion identifies the Alert a notifier was built for; a new generation rebuilds it.
type alertVersion struct {
	uid        types.UID
	generation int64
}

// NewProviderRegistry reads Secrets through reader.
func NewProviderRegistry(reader client.Reader) *ProviderRegistry {
	return &ProviderRegistry{
		reader:     reader,
		ttl:        DefaultSecretTTL,
		now:        time.Now,
		closeAfter: dispatch.DefaultDeliveryTimeout,
		entries:    map[types.NamespacedName]*providerEntry{},
	}
}

// Notifier returns the notifier delivering alert's events through p, with retries.
func (r *ProviderRegistry) Notifier(ctx context.Context, p *v1beta3.Provider, alert *v1beta3.Alert) (notifier.Notifier, error) {
	e := r.entry(ctx, p, false)
	if e.err != nil {
		return nil, e.err
	}
	key := alertVersion{}
	if alert != nil {
		key = alertVersion{uid: alert.UID, generation: alert.Generation}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if n, ok := e.notifiers[key]; ok {
		return n, nil
	}
	opts := e.opts
	opts.Alert = alert
	n, err := notifier.New(opts)
	if err != nil {
		return nil, err
	}
	if c, ok := n.(notifier.Closer); ok {
		// Keep the closer reachable for retire, behind the retrying wrapper.
		n = closingNotifier{Notifier: notifier.WithRetry(n, notifier.DefaultRetryPolicy()), closer: c}
	} else {
		n = notifier.WithRetry(n, notifier.DefaultRetryPolicy())
	}
	e.notifiers[key] = n
	return n, nil
}

// Validate resolves p afresh (its Secrets read now) and builds a notifier without an Alert:
// the configuration errors a delivery would meet, reported when the Provider changes.
func (r *ProviderRegistry) Validate(ctx context.Context, p *v1beta3.Provider) error {
	e := r.entry(ctx, p, true)
	if e.err != nil {
		return e.err
	}
	opts := e.opts
	n, err := notifier.New(opts)
	if err != nil {
		return err
	}
	if c, ok := n.(notifier.Closer); ok {
		_ = c.Close()
	}
	return nil
}

// Forget drops what the registry holds for a Provider (deleted or changed).
func (r *ProviderRegistry) Forget(key types.NamespacedName) {
	r.mu.Lock()
	old := r.entries[key]
	delete(r.entries, key)
	r.mu.Unlock()
	r.retire(old)
}

// entry returns p's resolution, resolving again when p changed, the resolution is older
// than the TTL, or fresh is set.
func (r *ProviderRegistry) entry(ctx context.Context, p *v1beta3.Provider, fresh bool) *providerEntry {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
	r.mu.Lock()
	e, ok := r.entries[key]
	r.mu.Unlock()
	if ok && !fresh && e.resourceVersion == p.ResourceVersion && r.now().Sub(e.resolvedAt) < r.ttl {
		return e
	}
	ne := &providerEntry{resourceVersion: p.ResourceVersion, resolvedAt: r.now(), notifiers: map[alertVersion]notifier.Notifier{}}
	ne.opts, ne.err = r.resolve(ctx, p)
	r.mu.Lock()
	old := r.entries[key]
	r.entries[key] = ne
	r.mu.Unlock()
	r.retire(old)
	return ne
}

// resolve reads the Secrets p references and turns them into notifier options.
func (r *ProviderRegistry) resolve(ctx context.Context, p *v1beta3.Provider) (notifier.Options, error) {
	secret, err := r.secretData(ctx, p, p.Spec.SecretRef, "spec.secretRef")
	if err != nil {
		return notifier.Options{}, err
	}
	cert, err := r.secretData(ctx, p, p.Spec.CertSecretRef, "spec.certSecretRef")
	if err != nil {
		return notifier.Options{}, err
	}
	proxy, err := r.secretData(ctx, p, p.Spec.ProxySecretRef, "spec.proxySecretRef")
	if err != nil {
		return notifier.Options{}, err
	}
	return notifier.FromProvider(p, secret, cert, proxy)
}

// secretData reads the Secret ref names in p's namespace (nil when ref is unset). Errors name
// the Provider, the field and the Secret, never its content.
func (r *ProviderRegistry) secretData(ctx context.Context, p *v1beta3.Provider, ref *meta.LocalObjectReference, field string) (map[string][]byte, error) {
	if ref == nil || ref.Name == "" {
		return nil, nil
	}
	var s corev1.Secret
	if err := r.reader.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("Provider %s/%s: Secret '%s/%s' of %s not found", p.Namespace, p.Name, p.Namespace, ref.Name, field)
		}
		return nil, fmt.Errorf("Provider %s/%s: reading Secret '%s/%s' of %s: %w", p.Namespace, p.Name, p.Namespace, ref.Name, field, err)
	}
	if field == "spec.certSecretRef" && s.Type != corev1.SecretTypeTLS && s.Type != corev1.SecretTypeOpaque && s.Type != "" {
		return nil, fmt.Errorf("Provider %s/%s: Secret '%s/%s' of %s must be of type %s or %s, not %s",
			p.Namespace, p.Name, p.Namespace, ref.Name, field, corev1.SecretTypeTLS, corev1.SecretTypeOpaque, s.Type)
	}
	if s.Data == nil {
		return map[string][]byte{}, nil
	}
	return s.Data, nil
}

// retire closes, after the delivery timeout, the notifiers of e that hold connections:
// events already queued for them are delivered first.
func (r *ProviderRegistry) retire(e *providerEntry) {
	if e == nil {
		return
	}
	e.mu.Lock()
	var closers []notifier.Closer
	for _, n := range e.notifiers {
		if c, ok := n.(closingNotifier); ok {
			closers = append(closers, c.closer)
		}
	}
	e.notifiers = map[alertVersion]notifier.Notifier{}
	e.mu.Unlock()
	if len(closers) == 0 {
		return
	}
	time.AfterFunc(r.closeAfter, func() {
		for _, c := range closers {
			_ = c.Close()
		}
	})
}

// closingNotifier is a retrying notifier whose underlying connection the registry closes.
type closingNotifier struct {
	notifier.Notifier
	closer notifier.Closer
}
