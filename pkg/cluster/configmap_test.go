package cluster_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"gotk.dev/pkg/cluster"
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
