package controller

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// serviceAccount creates a ServiceAccount in ns allowed to read ConfigMaps only.
func serviceAccount(t *testing.T, ns, name string) {
	t.Helper()
	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
		role(ns, name+"-read", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}}),
		bindRole(ns, name, name+"-read"),
	} {
		if err := k8s().Create(testCtx(t), o); err != nil {
			t.Fatal(err)
		}
	}
}

// allowAll lets the ServiceAccount do anything in its namespace, as upstream's
// multi-tenancy guide sets tenants up.
func allowAll(t *testing.T, ns, name string) {
	t.Helper()
	for _, o := range []client.Object{
		role(ns, name+"-all", rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}),
		bindRole(ns, name, name+"-all"),
	} {
		if err := k8s().Create(testCtx(t), o); err != nil {
			t.Fatal(err)
		}
	}
}

func role(ns, name string, rule rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: []rbacv1.PolicyRule{rule}}
}

func bindRole(ns, sa, role string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: role},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}},
	}
}

// TestImpersonation releases as spec.serviceAccountName: an account that may not write
// the release storage fails, naming itself; once allowed everything in its namespace the
// same HelmRelease installs, and uninstalls on deletion, as that account.
func TestImpersonation(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	serviceAccount(t, ns, "tenant")
	helmChartSource(t, ns, "podinfo", chartOf(t, "podinfo"))
	newHR(t, ns, "app", "podinfo", func(hr *v2.HelmRelease) { hr.Spec.ServiceAccountName = "tenant" })
	hr := waitReadyReason(t, ns, "app", metav1.ConditionFalse, stateErrorReason, 60*time.Second)
	assertContains(t, "Ready message", condition(hr, meta.ReadyCondition).Message,
		"could not determine release state", "system:serviceaccount:"+ns+":tenant", "forbidden")
	if getObj(t, "apps/v1", "Deployment", ns, "app-podinfo") != nil || latestRelease(t, ns, "app") != nil {
		t.Fatal("a denied install left something behind")
	}

	allowAll(t, ns, "tenant")
	hr = waitReady(t, ns, "app", 60*time.Second)
	if rls := latestRelease(t, ns, "app"); rls == nil || rls.Info.Status != "deployed" {
		t.Fatalf("release as the tenant: %v", rls)
	}
	deleteHR(t, ns, "app")
	if latestRelease(t, ns, "app") != nil {
		t.Error("release not uninstalled")
	}
}

// kubeconfig renders a kubeconfig for the test API server; with exec, its credentials come
// from an exec plugin.
func kubeconfig(t *testing.T, exec bool) []byte {
	t.Helper()
	cfg := suiteEnv.env.Config
	user := &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	if exec {
		cred, _ := json.Marshal(map[string]any{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
			"status": map[string]any{"clientCertificateData": string(cfg.CertData), "clientKeyData": string(cfg.KeyData)}})
		script := filepath.Join(t.TempDir(), "credentials.sh")
		if err := os.WriteFile(script, []byte("#!/bin/sh\ncat <<'EOF'\n"+string(cred)+"\nEOF\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		user = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: script,
			InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = user
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	kc.CurrentContext = "test"
	b, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKubeConfig releases into the cluster of a kubeconfig Secret (the test API server
// itself, reached as another cluster would be), and refuses a kubeconfig whose exec plugin
// would run inside the controller, naming the Secret and the field.
func TestKubeConfig(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	for name, data := range map[string][]byte{"remote": kubeconfig(t, false), "exec": kubeconfig(t, true)} {
		if err := k8s().Create(testCtx(t), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Data: map[string][]byte{"value": data}}); err != nil {
			t.Fatal(err)
		}
	}
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	remote := func(secret string) hrOpt {
		return func(hr *v2.HelmRelease) {
			hr.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: secret}}
		}
	}
	newHR(t, ns, "remote", "widgets", remote("remote"))
	newHR(t, ns, "exec", "widgets", remote("exec"))
	waitReady(t, ns, "remote", 60*time.Second)
	if rls := latestRelease(t, ns, "remote"); rls == nil {
		t.Fatal("no release in the remote cluster")
	}
	hr := stalled(t, ns, "exec", "ReconciliationFailed")
	assertContains(t, "Ready message", condition(hr, meta.ReadyCondition).Message, "kubeconfig secret '"+ns+"/exec'", "exec")
}

// restricted are the controller flags of a locked-down multi-tenant installation.
var restricted = Options{NoCrossNamespaceRefs: true, Cluster: options.Cluster{DefaultServiceAccount: "flux-applier"}}

// direct runs the HelmRelease reconcile with other controller options than the suite's
// manager: the tests call Reconcile for HelmReleases labelled directLabel, which the
// suite's manager does not watch.
func direct(t *testing.T, opts Options, ns, name string) *v2.HelmRelease {
	t.Helper()
	env := suiteEnv.env
	c, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewHelmReleaseReconciler(suiteEnv.rt, Config{Client: c, Options: opts, Artifacts: suiteEnv.artifacts})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = r.Reconcile(testCtx(t), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}})
	return getHR(t, ns, name)
}

func directLabelled(hr *v2.HelmRelease) { hr.Labels = map[string]string{directLabel: "true"} }

// TestNoCrossNamespaceRefs: with --no-cross-namespace-refs a chartRef, chart template or
// dependency in another namespace stalls the HelmRelease with AccessDenied.
func TestNoCrossNamespaceRefs(t *testing.T) {
	t.Parallel()
	ns, other := newNamespace(t), newNamespace(t)
	helmChartSource(t, other, "widgets", chartOf(t, "widgets"))
	for name, opt := range map[string]hrOpt{
		"chartref": func(hr *v2.HelmRelease) { hr.Spec.ChartRef.Namespace = other },
		"template": func(hr *v2.HelmRelease) {
			hr.Spec.ChartRef = nil
			hr.Spec.Chart = &v2.HelmChartTemplate{Spec: v2.HelmChartTemplateSpec{Chart: "widgets",
				SourceRef: v2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts", Namespace: other}}}
		},
		"dependency": func(hr *v2.HelmRelease) {
			hr.Spec.DependsOn = []meta.DependencyReference{{Name: "x", Namespace: other}}
		},
	} {
		newHR(t, ns, name, "widgets", directLabelled, opt)
		hr := direct(t, restricted, ns, name)
		c := condition(hr, meta.ReadyCondition)
		if c == nil || c.Reason != accessDeniedReason || condition(hr, meta.StalledCondition) == nil {
			t.Errorf("%s: %s", name, describe(hr))
			continue
		}
		assertContains(t, name+" message", c.Message, other, "cross-namespace")
	}
}

// TestDefaultServiceAccount: --default-service-account makes HelmReleases without
// spec.serviceAccountName act as that account of their namespace.
func TestDefaultServiceAccount(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	serviceAccount(t, ns, "flux-applier")
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", directLabelled)
	hr := direct(t, restricted, ns, "app")
	assertContains(t, "Ready message", condition(hr, meta.ReadyCondition).Message, "system:serviceaccount:"+ns+":flux-applier")
}
