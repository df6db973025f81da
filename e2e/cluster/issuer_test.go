package cluster_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"gotk.dev/e2e/cluster"
	"gotk.dev/internal/testing/ports"
)

// TestTrustedIssuer: a spoke started trusting a hub's published service account issuer for
// its own address accepts the hub's tokens of that audience as the hub's service account
// (system:serviceaccount:<ns>:<name>, subject to the spoke's RBAC) and refuses any other
// audience, and the tokens of the hub's service accounts it does not name.
func TestTrustedIssuer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hub, err := cluster.Start(ctx, cluster.Options{Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Stop()
	issuer, err := hub.PublishIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer issuer.Close()
	port, err := ports.Free()
	if err != nil {
		t.Fatal(err)
	}
	address := "https://127.0.0.1:" + strconv.Itoa(port)
	trust := issuer.Trust(address)
	trust.Subjects = []string{"system:serviceaccount:fleet:deployer"}
	spoke, err := cluster.Start(ctx, cluster.Options{Dir: t.TempDir(), Logf: t.Logf, APIServerPort: port,
		ServiceAccountIssuer: "https://spoke.cluster.local", TrustedIssuers: []cluster.TrustedIssuer{trust}})
	if err != nil {
		t.Fatal(err)
	}
	defer spoke.Stop()

	hubCS := kubernetes.NewForConfigOrDie(hub.Config)
	if _, err := hubCS.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fleet"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, sa := range []string{"deployer", "stranger"} {
		if _, err := hubCS.CoreV1().ServiceAccounts("fleet").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	asHub := func(sa, audience string) (*authenticationv1.SelfSubjectReview, error) {
		tr, err := hubCS.CoreV1().ServiceAccounts("fleet").CreateToken(ctx, sa,
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{audience}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cs := kubernetes.NewForConfigOrDie(&rest.Config{Host: address, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: spoke.Config.CAData}})
		return cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	}
	review, err := asHub("deployer", address)
	if err != nil {
		t.Fatalf("the spoke refused the hub's token for its address: %v", err)
	}
	if got, want := review.Status.UserInfo.Username, "system:serviceaccount:fleet:deployer"; got != want {
		t.Errorf("the spoke sees the hub's service account as %q, want %q", got, want)
	}
	if _, err := asHub("deployer", "https://elsewhere.example"); err == nil {
		t.Error("the spoke accepted the hub's token for another audience")
	}
	if _, err := asHub("stranger", address); err == nil {
		t.Error("the spoke accepted the token of a service account it does not trust")
	}
}
