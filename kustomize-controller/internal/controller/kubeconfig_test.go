package controller

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// kubeconfig renders a kubeconfig for the test API server. With exec set, the user's
// credentials come from an exec plugin: a script printing the admin's client certificate.
func kubeconfig(t *testing.T, exec bool) []byte {
	t.Helper()
	cfg := suiteEnv.env.Config
	user := &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	if exec {
		cred, err := json.Marshal(map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1",
			"kind":       "ExecCredential",
			"status": map[string]any{
				"clientCertificateData": string(cfg.CertData),
				"clientKeyData":         string(cfg.KeyData),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		script := filepath.Join(t.TempDir(), "credentials.sh")
		if err := os.WriteFile(script, []byte("#!/bin/sh\ncat <<'EOF'\n"+string(cred)+"\nEOF\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		user = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
			APIVersion: "client.authentication.k8s.io/v1", Command: script, InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		}}
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

// kubeconfigSecret stores a kubeconfig in a Secret under key "value".
func kubeconfigSecret(t *testing.T, ns, name string, data []byte) {
	t.Helper()
	if err := k8s().Create(testCtx(t), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data:       map[string][]byte{"value": data},
	}); err != nil {
		t.Fatal(err)
	}
}

func withKubeConfig(secret string) ksOpt {
	return func(ks *kustomizev1.Kustomization) {
		ks.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: secret}}
	}
}

// TestKubeConfigRemote applies to the cluster of spec.kubeConfig.secretRef (here the same API
// server, reached as a "spoke"), health checks included, and garbage-collects there.
func TestKubeConfigRemote(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	kubeconfigSecret(t, ns, "spoke", kubeconfig(t, false))
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("remote", map[string]string{"k": "v"})})
	newKustomization(t, ns, "app", src, "", withKubeConfig("spoke"), func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.DeletionPolicy = kustomizev1.DeletionPolicyDelete
	})
	ks := waitReady(t, ns, "app", 30*time.Second)
	if c := condition(ks, kustomizev1.HealthyCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Healthy = %v", c)
	}
	if cm := getCM(t, ns, "remote"); cm == nil || cm.Data["k"] != "v" {
		t.Fatalf("ConfigMap = %v", cm)
	}
	deleteKSAndWait(t, ns, "app", 20*time.Second)
	if getCM(t, ns, "remote") != nil {
		t.Error("not garbage-collected on the remote cluster")
	}
}

// TestKubeConfigExecRefused stalls on a kubeconfig running an exec plugin: it would run a
// command inside the controller (--insecure-kubeconfig-exec allows it, see direct_test.go).
func TestKubeConfigExecRefused(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	kubeconfigSecret(t, ns, "spoke", kubeconfig(t, true))
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("remote", nil)})
	newKustomization(t, ns, "app", src, "", withKubeConfig("spoke"))
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, reconciliationFailedReason, 20*time.Second)
	if c := condition(ks, meta.StalledCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %v", c)
	}
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "exec", "insecure-kubeconfig-exec", ns+"/spoke")
	if getCM(t, ns, "remote") != nil {
		t.Error("applied through a refused kubeconfig")
	}
}

// TestKubeConfigConfigMapRefUnusable: a spec.kubeConfig.configMapRef that is missing, or
// names a provider other than generic, fails the Kustomization with a message naming the
// ConfigMap; nothing is applied to the local cluster instead.
func TestKubeConfigConfigMapRefUnusable(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("should-be-remote", nil)})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.KubeConfig = &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "cluster-info"}}
	})
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, reconciliationFailedReason, 20*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "kubeconfig configmap", ns+"/cluster-info", "not found")

	if err := k8s().Create(testCtx(t), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster-info"},
		Data:       map[string]string{"provider": "aws", "cluster": "arn:aws:eks:eu-west-1:1:cluster/spoke"},
	}); err != nil {
		t.Fatal(err)
	}
	waitHandled(t, ns, "app", requestReconcile(t, ns, "app"), 20*time.Second)
	ks = waitReadyReason(t, ns, "app", metav1.ConditionFalse, reconciliationFailedReason, 20*time.Second)
	if c := condition(ks, meta.StalledCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %v, want True: only a spec change can fix the provider", c)
	}
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "provider 'aws' is not supported")
	if getCM(t, ns, "should-be-remote") != nil {
		t.Error("applied to the local cluster")
	}
}
