package cluster_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"gotk.dev/pkg/cluster"
	"gotk.dev/pkg/ssa"
)

// jwt matches anything shaped like a service account token (a JWT's header and payload).
var jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

// TestConfigMapTokenRefused: a spoke that does not trust the hub's service account issuer
// refuses the token the factory requests for a configMapRef; every request then fails with
// a message naming the ConfigMap, the spoke's address, the service account and the
// audiences, and never the token.
func TestConfigMapTokenRefused(t *testing.T) {
	ctx := testCtx(t)
	f := newFactory(t)
	h, s := hub.Get(t), spoke.Get(t)
	ns := h.NewNamespace(t, "untrusted")
	if err := h.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Client.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spoke"},
		Data: map[string]string{"provider": "generic", "address": s.Config.Host, "ca.crt": string(s.Config.CAData),
			"serviceAccountName": "deployer"},
	}); err != nil {
		t.Fatal(err)
	}
	req := cluster.Request{Namespace: ns, KubeConfig: &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "spoke"}}}
	target, err := f.For(ctx, h.Client, req)
	if err != nil {
		t.Fatalf("the token is the hub's to issue, building the target must work: %v", err)
	}
	err = target.Client.Get(ctx, types.NamespacedName{Name: "default"}, &corev1.Namespace{})
	if err == nil {
		t.Fatal("the spoke accepted a token of an issuer it does not trust")
	}
	for _, want := range []string{
		"kubeconfig configmap '" + ns + "/spoke'",
		"remote cluster at " + s.Config.Host,
		"refused the token of service account '" + ns + "/deployer'",
		"audiences [" + s.Config.Host + "]",
		"401 Unauthorized",
		"trust this cluster's service account issuer for one of these audiences, and this service account",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Logf("refused: %v", err)
	if jwt.MatchString(err.Error()) {
		t.Errorf("the error carries a token: %q", err)
	}
}

// TestConfigMapControllerServiceAccount: a ConfigMap that names no service account reaches
// the remote cluster as the service account the controller runs as (upstream's default),
// not one of the object's namespace; a controller that runs as no service account, or runs
// under the multi-tenancy lockdown, stalls the object, saying what to set.
func TestConfigMapControllerServiceAccount(t *testing.T) {
	ctx := testCtx(t)
	h := hub.Get(t)
	ns := h.NewNamespace(t, "no-sa")
	if err := h.Client.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spoke"},
		// The "remote" cluster is the hub itself, which trusts its own issuer.
		Data: map[string]string{"provider": "generic", "address": h.Config.Host, "ca.crt": string(h.Config.CAData),
			"audiences": strings.TrimSuffix(h.Config.Host, "/") + "/"},
	}); err != nil {
		t.Fatal(err)
	}
	req := cluster.Request{Namespace: ns, KubeConfig: &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "spoke"}}}

	_, err := newFactory(t).For(ctx, h.Client, req)
	if err == nil {
		t.Fatal("a controller running as the admin user lent its identity to a ConfigMap naming no service account")
	}
	for _, want := range []string{"kubeconfig configmap '" + ns + "/spoke'", "key 'serviceAccountName' is not set", "not as a service account"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// The controller as the service account flux-system/kustomize-controller would run.
	controllerNS := h.NewNamespace(t, "flux")
	asController := serviceAccountConfig(t, controllerNS, "kustomize-controller")
	hc, err := rest.HTTPClientFor(asController)
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(asController, hc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := cluster.NewFactory(cluster.Options{Config: asController, Scheme: h.Scheme, Mapper: mapper,
		Owner: ssa.Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"}})
	if err != nil {
		t.Fatal(err)
	}
	target, err := f.For(ctx, h.Client, req)
	if err != nil {
		t.Fatal(err)
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := target.Client.Create(ctx, review); err != nil {
		t.Fatal(err)
	}
	if got, want := review.Status.UserInfo.Username, cluster.ServiceAccountUser(controllerNS, "kustomize-controller"); got != want {
		t.Errorf("the remote cluster sees %q, want the controller's service account %q", got, want)
	}

	// Under the multi-tenancy lockdown (--default-service-account), the ConfigMap is a
	// tenant's to write: the controller's own token is not lent to it.
	locked, err := cluster.NewFactory(cluster.Options{Config: asController, Scheme: h.Scheme, Mapper: mapper,
		Owner: ssa.Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"}, DefaultServiceAccount: "default"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = locked.For(ctx, h.Client, req)
	if err == nil {
		t.Fatal("with --default-service-account set, a ConfigMap naming no service account got the controller's own token")
	}
	for _, want := range []string{"kubeconfig configmap '" + ns + "/spoke'", "does not lend its own service account", "--default-kubeconfig-service-account"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// serviceAccountConfig is a client configuration of the hub authenticating as a new service
// account namespace/name bound to cluster-admin, as a controller Pod's.
func serviceAccountConfig(t *testing.T, namespace, name string) *rest.Config {
	t.Helper()
	ctx := testCtx(t)
	h := hub.Get(t)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if err := h.Client.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: namespace + "-" + name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}},
	}
	if err := h.Client.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Client.Delete(context.Background(), binding) })
	tr := &authenticationv1.TokenRequest{}
	if err := h.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatal(err)
	}
	return &rest.Config{Host: h.Config.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: h.Config.CAData}}
}
