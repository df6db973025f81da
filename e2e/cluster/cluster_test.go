package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/workspace"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"gotk.dev/e2e/cluster"
)

// TestLocalCluster starts the full local cluster and checks what the e2e journeys depend on:
// Deployments become Available on kwok nodes, namespaces finish deleting, and the CRDs install.
func TestLocalCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	c, err := cluster.Start(ctx, cluster.Options{Dir: dir, Nodes: 1, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	cs := kubernetes.NewForConfigOrDie(c.Config)

	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	names, err := cluster.InstallCRDs(ctx, c.Config, filepath.Join(root, "manifests", "crds"))
	if err != nil || len(names) != 13 {
		t.Fatalf("InstallCRDs: %v (%d installed)", err, len(names))
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "ghcr.io/stefanprodan/podinfo:6.5.3"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("apps").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments("apps").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == 2, nil
	})
	if err != nil {
		t.Fatalf("Deployment never became Available on the kwok node: %v", err)
	}

	if err := cs.CoreV1().Namespaces().Delete(ctx, "apps", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "apps", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("namespace deletion never finished: %v", err)
	}

	kubeconfig, err := os.ReadFile(c.Kubeconfig)
	if err != nil || !strings.Contains(string(kubeconfig), "https://127.0.0.1:") {
		t.Fatalf("kubeconfig at %s unusable: %v", c.Kubeconfig, err)
	}
}

// TestPortInUse: asking for a taken API server port fails fast with a message saying what to do.
func TestPortInUse(t *testing.T) {
	ctx := context.Background()
	first, err := cluster.Start(ctx, cluster.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	port := first.Config.Host[strings.LastIndex(first.Config.Host, ":")+1:]
	var p int
	for _, ch := range port {
		p = p*10 + int(ch-'0')
	}
	_, err = cluster.Start(ctx, cluster.Options{Dir: t.TempDir(), APIServerPort: p})
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "dev-down") {
		t.Fatalf("want a port-in-use error naming the fix, got %v", err)
	}
}
