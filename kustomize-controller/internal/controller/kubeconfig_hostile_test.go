package controller

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// tenantServer is an HTTPS server a hostile tenant points a kubeconfig at: it records the
// credentials requests carry.
type tenantServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newTenantServer(t *testing.T) *tenantServer {
	s := &tenantServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Get("Authorization"))
		s.mu.Unlock()
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *tenantServer) authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// hostileKubeconfig renders a kubeconfig for server whose cluster and user mutate changes.
func hostileKubeconfig(t *testing.T, server string, ca []byte, mutate func(*clientcmdapi.Cluster, *clientcmdapi.AuthInfo)) []byte {
	t.Helper()
	cl := &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	user := &clientcmdapi.AuthInfo{}
	mutate(cl, user)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = cl
	kc.AuthInfos["u"] = user
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "c"
	b, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKubeConfigFileReferencesRefused: a tenant's kubeconfig naming files in the controller's
// pod (the service account token, client certificates) or disabling TLS verification stalls,
// with a message naming the field but not the path, and the controller never sends its own
// credentials to the tenant's server.
func TestKubeConfigFileReferencesRefused(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	srv := newTenantServer(t)
	ca := pemCert(srv.Certificate().Raw)
	// Stands in for /var/run/secrets/kubernetes.io/serviceaccount/token in the controller's pod.
	tokenPath := filepath.Join(t.TempDir(), "serviceaccount-token")
	const controllerToken = "controller-own-token-d3adb33f"
	if err := os.WriteFile(tokenPath, []byte(controllerToken), 0o600); err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(t.TempDir(), "client.crt")
	if err := os.WriteFile(certPath, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("hostile", nil)})
	cases := map[string]struct {
		mutate func(*clientcmdapi.Cluster, *clientcmdapi.AuthInfo)
		msg    string
	}{
		"token-file": {func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) { u.TokenFile = tokenPath }, "tokenFile refers to a file"},
		"client-cert": {func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			u.ClientCertificate, u.ClientKey = certPath, certPath
		}, "client-certificate refers to a file"},
		"ca-file": {func(c *clientcmdapi.Cluster, _ *clientcmdapi.AuthInfo) {
			c.CertificateAuthority, c.CertificateAuthorityData = certPath, nil
		}, "certificate-authority refers to a file"},
		"insecure-tls": {func(c *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			c.InsecureSkipTLSVerify, c.CertificateAuthorityData = true, nil
			u.Token = "tenant-token"
		}, "insecure-skip-tls-verify is not allowed"},
	}
	for name, tc := range cases {
		kubeconfigSecret(t, ns, name, hostileKubeconfig(t, srv.URL, ca, tc.mutate))
		newKustomization(t, ns, name, src, "", withKubeConfig(name))
	}
	for name, tc := range cases {
		ks := waitReadyReason(t, ns, name, metav1.ConditionFalse, reconciliationFailedReason, 30*time.Second)
		if c := condition(ks, meta.StalledCondition); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("%s: Stalled = %v", name, c)
		}
		msg := condition(ks, meta.ReadyCondition).Message
		assertContains(t, name+" message", msg, tc.msg, ns+"/"+name)
		if strings.Contains(msg, tokenPath) || strings.Contains(msg, certPath) {
			t.Errorf("%s: the message reveals a path in the controller's pod: %q", name, msg)
		}
	}
	for _, a := range srv.authorizations() {
		if strings.Contains(a, controllerToken) {
			t.Errorf("the controller's own token reached the tenant's server")
		}
	}
	if n := len(srv.authorizations()); n != 0 {
		t.Errorf("the tenant's server got %d requests from refused kubeconfigs", n)
	}
}

// TestKubeConfigImpersonatesOnRemote: spec.serviceAccountName holds on the remote cluster of
// spec.kubeConfig: without rights there the apply is forbidden as that account; with them it
// succeeds.
func TestKubeConfigImpersonatesOnRemote(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	kubeconfigSecret(t, ns, "spoke", kubeconfig(t, false))
	if err := k8s().Create(testCtx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}}); err != nil {
		t.Fatal(err)
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("as-tenant", nil)})
	newKustomization(t, ns, "app", src, "", withKubeConfig("spoke"), func(ks *kustomizev1.Kustomization) {
		ks.Spec.ServiceAccountName = "tenant"
	})
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, reconciliationFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "system:serviceaccount:"+ns+":tenant", "forbidden")
	if getCM(t, ns, "as-tenant") != nil {
		t.Fatal("applied without the service account's rights")
	}
	grantAdmin(t, ns, "tenant")
	waitHandled(t, ns, "app", requestReconcile(t, ns, "app"), 30*time.Second)
	waitReady(t, ns, "app", 30*time.Second)
	if getCM(t, ns, "as-tenant") == nil {
		t.Error("not applied after the service account got the rights")
	}
}

// TestKubeConfigConfigMapRefGeneric reaches a "remote" cluster (the same API server) with
// spec.kubeConfig.configMapRef, provider generic: address and CA from the ConfigMap, a token
// the controller requests for the named service account.
func TestKubeConfigConfigMapRefGeneric(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	cfg := suiteEnv.env.Config
	if err := k8s().Create(testCtx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spoke-deployer"}}); err != nil {
		t.Fatal(err)
	}
	grantAdmin(t, ns, "spoke-deployer")
	if err := k8s().Create(testCtx(t), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spoke"},
		Data: map[string]string{
			"provider": "generic", "address": cfg.Host, "ca.crt": string(cfg.CAData),
			// envtest's API server accepts tokens for its issuer URL.
			"audiences": strings.TrimSuffix(cfg.Host, "/") + "/", "serviceAccountName": "spoke-deployer",
		},
	}); err != nil {
		t.Fatal(err)
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("via-configmap", nil)})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.KubeConfig = &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "spoke"}}
	})
	waitReady(t, ns, "app", 30*time.Second)
	if getCM(t, ns, "via-configmap") == nil {
		t.Error("not applied through the configMapRef cluster")
	}
}

// grantAdmin binds cluster-admin to a service account within its namespace (envtest runs no
// controller-manager, so the aggregated edit role stays empty).
func grantAdmin(t *testing.T, ns, sa string) {
	t.Helper()
	if err := k8s().Create(testCtx(t), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa + "-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}},
	}); err != nil {
		t.Fatal(err)
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
