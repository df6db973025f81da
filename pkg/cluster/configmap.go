package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"golang.org/x/oauth2"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/reconcile"
)

// fromConfigMap builds the target of spec.kubeConfig.configMapRef with provider generic: the
// remote API server at `address` (CA from `ca.crt`), reached with a token the local API
// server issues with the audiences of `audiences` (default: the address) for a service
// account: `serviceAccountName` of the object's namespace, else
// --default-kubeconfig-service-account of the object's namespace, else (as upstream) the
// service account the controller itself runs as, unless --default-service-account is set
// (multi-tenancy lockdown). The remote cluster must trust this cluster's service account
// issuer.
func (f *Factory) fromConfigMap(ctx context.Context, reader client.Reader, req Request) (*Target, error) {
	ref := req.KubeConfig.ConfigMapRef
	key := types.NamespacedName{Namespace: req.Namespace, Name: ref.Name}
	name := fmt.Sprintf("kubeconfig configmap '%s'", key)
	var cm corev1.ConfigMap
	if err := reader.Get(ctx, key, &cm); err != nil {
		return nil, reconcile.Fail(f.o.FailureReason, fmt.Errorf("failed to get %s: %w", name, err))
	}
	provider := cm.Data[meta.KubeConfigKeyProvider]
	if provider != "generic" {
		return nil, reconcile.Stall(f.o.FailureReason, fmt.Errorf("%s: provider '%s' is not supported (supported: generic)", name, provider))
	}
	address := cm.Data[meta.KubeConfigKeyAddress]
	if address == "" {
		return nil, reconcile.Stall(f.o.FailureReason, fmt.Errorf("%s: key '%s' is required for provider generic", name, meta.KubeConfigKeyAddress))
	}
	saNamespace, sa := req.Namespace, cm.Data[meta.KubeConfigKeyServiceAccountName]
	if sa == "" {
		sa = f.o.DefaultKubeconfigServiceAccount
	}
	if sa == "" && f.o.DefaultServiceAccount != "" {
		// Multi-tenancy lockdown: the objects that name no service account run as
		// --default-service-account, never as the controller. Lending the controller's own
		// token to a ConfigMap a tenant writes would send it, for audiences the tenant picks,
		// to an address the tenant picks.
		return nil, reconcile.Stall(f.o.FailureReason, fmt.Errorf("%s: key '%s' is not set, and with --default-service-account set "+
			"the controller does not lend its own service account: set '%s' or --default-kubeconfig-service-account",
			name, meta.KubeConfigKeyServiceAccountName, meta.KubeConfigKeyServiceAccountName))
	}
	if sa == "" {
		var err error
		if saNamespace, sa, err = f.controllerServiceAccount(ctx); err != nil {
			return nil, reconcile.Stall(f.o.FailureReason, fmt.Errorf("%s: key '%s' is not set and %w", name, meta.KubeConfigKeyServiceAccountName, err))
		}
	}
	audiences := []string{address}
	if a := strings.TrimSpace(cm.Data[meta.KubeConfigKeyAudiences]); a != "" {
		audiences = strings.Fields(a)
	}
	// The token is asked for now so that a missing service account fails here, naming it;
	// the client asks the token source for it (and its renewals) on every request, so one
	// client serves the spoke for as long as the ConfigMap is unchanged.
	if _, err := f.serviceAccountToken(ctx, saNamespace, sa, audiences); err != nil {
		return nil, reconcile.Fail(f.o.FailureReason, fmt.Errorf("%s: token of service account '%s/%s': %w", name, saNamespace, sa, err))
	}
	ts := &saTokenSource{f: f, namespace: saNamespace, name: sa, audiences: audiences}
	cacheKey := fmt.Sprintf("configmap:%s:%s:%s/%s", key, req.ServiceAccountName, saNamespace, sa)
	return f.remote(cacheKey, cm.ResourceVersion, func() (remoteConfig, error) {
		cfg := &rest.Config{
			Host:            address,
			TLSClientConfig: rest.TLSClientConfig{CAData: []byte(cm.Data[meta.KubeConfigKeyCACert])},
		}
		cfg.Wrap(transport.TokenSourceWrapTransport(ts))
		// What the spoke needs to accept the token, for the message when it does not.
		return remoteConfig{cfg: cfg, name: name,
			credentials: fmt.Sprintf("the token of service account '%s/%s' for audiences %v", saNamespace, sa, audiences),
			hint:        "it must trust this cluster's service account issuer for one of these audiences, and this service account"}, nil
	}, req)
}

// controllerServiceAccount is the namespace and name of the service account the controller
// runs as, asked of the API server once (SelfSubjectReview). A controller running as
// anything else (a kubeconfig's user) has none to lend a ConfigMap that names none.
func (f *Factory) controllerServiceAccount(ctx context.Context) (namespace, name string, err error) {
	f.mu.Lock()
	self := f.selfIdentity
	f.mu.Unlock()
	if self == "" {
		review := &authenticationv1.SelfSubjectReview{}
		if err := f.self.Create(ctx, review); err != nil {
			return "", "", fmt.Errorf("the controller's own service account could not be looked up: %w", err)
		}
		self = review.Status.UserInfo.Username
		f.mu.Lock()
		f.selfIdentity = self
		f.mu.Unlock()
	}
	account, ok := strings.CutPrefix(self, serviceAccountUserPrefix)
	if namespace, name, found := strings.Cut(account, ":"); ok && found && namespace != "" && name != "" {
		return namespace, name, nil
	}
	return "", "", fmt.Errorf("the controller runs as '%s', not as a service account: "+
		"name one in the ConfigMap or with --default-kubeconfig-service-account", self)
}

// saTokenSource hands a remote cluster's client the current token of a service account of
// this cluster (renewed by serviceAccountToken at half its life).
type saTokenSource struct {
	f               *Factory
	namespace, name string
	audiences       []string
}

func (s *saTokenSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t, err := s.f.serviceAccountToken(ctx, s.namespace, s.name, s.audiences)
	if err != nil {
		return nil, fmt.Errorf("token of service account '%s/%s': %w", s.namespace, s.name, err)
	}
	return &oauth2.Token{AccessToken: t.value, TokenType: "Bearer", Expiry: t.renewAt}, nil
}

// tokenLifetime is how long the tokens the factory requests live; a token is renewed at
// half its life.
const tokenLifetime = time.Hour

type saToken struct {
	value   string
	renewAt time.Time
}

// serviceAccountToken returns a token of namespace/name for audiences from the local API
// server, cached until half its life has passed.
func (f *Factory) serviceAccountToken(ctx context.Context, namespace, name string, audiences []string) (saToken, error) {
	key := namespace + "/" + name + "/" + strings.Join(audiences, ",")
	f.mu.Lock()
	t, ok := f.tokens[key]
	f.mu.Unlock()
	if ok && time.Now().Before(t.renewAt) {
		return t, nil
	}
	expiry := int64(tokenLifetime / time.Second)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: &expiry}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	now := time.Now()
	if err := f.self.SubResource("token").Create(ctx, sa, tr); err != nil {
		return saToken{}, err
	}
	t = saToken{value: tr.Status.Token, renewAt: now.Add(tokenLifetime / 2)}
	f.mu.Lock()
	f.tokens[key] = t
	f.mu.Unlock()
	return t, nil
}
