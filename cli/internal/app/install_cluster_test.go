package app

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/cluster"
)

// TestInstallLifecycle runs install -> check -> upgrade -> uninstall against a local cluster
// (real API server, controller manager, scheduler and a kwok node that makes pods Ready),
// then installs into a namespace someone else owns, which enforces the restricted Pod
// Security Standard.
func TestInstallLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{Dir: t.TempDir(), Nodes: 1, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	cl, err := client.New(c.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kc := "--kubeconfig=" + c.Kubeconfig
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later steps build on this one
		}
	}

	step("check --pre", func(t *testing.T) {
		r := runFlux(t, "", "check", "--pre", kc)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if !regexp.MustCompile(`(?m)^► checking prerequisites\n✔ Kubernetes 1\.\d+\.\d+ >=1\.33\.0-0\n✔ prerequisites checks passed\n$`).MatchString(r.stderr) {
			t.Errorf("unexpected output:\n%s", r.stderr)
		}
	})

	step("check before install fails", func(t *testing.T) {
		r := runFlux(t, "", "check", "--timeout=2s", kc)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1", r.code)
		}
		wants(t, "stderr", r.stderr, "✗ no Flux installation found in namespace flux-system", "✗ check failed")
	})

	step("install", func(t *testing.T) {
		start := time.Now()
		r := runFlux(t, "", "install", "--timeout=2m", kc)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		t.Logf("install took %s", time.Since(start))
		wants(t, "stdout", r.stdout, "Namespace/flux-system created\n",
			"CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io created\n",
			"Deployment/flux-system/source-controller created\n", "Service/flux-system/webhook-receiver created\n",
			"ClusterRoleBinding/cluster-reconciler-flux-system created\n", "NetworkPolicy/flux-system/allow-egress created\n")
		wants(t, "stderr", r.stderr, "► installing components in flux-system namespace", "◎ verifying installation",
			"✔ source-controller: deployment ready", "✔ notification-controller: deployment ready", "✔ install finished")
		if strings.Contains(r.stdout, "image-reflector-controller") {
			t.Error("installed an extra component by default")
		}
		ns, err := cs.CoreV1().Namespaces().Get(ctx, "flux-system", metav1.GetOptions{})
		if err != nil || ns.Labels["app.kubernetes.io/part-of"] != "flux" || ns.Labels["pod-security.kubernetes.io/warn"] != "restricted" {
			t.Errorf("namespace %v: %v", ns.Labels, err)
		}
	})

	step("check", func(t *testing.T) {
		r := runFlux(t, "", "check", kc)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		wants(t, "stderr", r.stderr, "► checking version in cluster\n✔ distribution: flux-v0.0.0-dev\n✔ bootstrapped: false\n",
			"► checking controllers\n", "✔ source-controller: deployment ready\n► ghcr.io/gotk-dev/source-controller:v0.0.0-dev\n",
			"► checking crds\n", "✔ gitrepositories.source.toolkit.fluxcd.io/v1\n", "✔ alerts.notification.toolkit.fluxcd.io/v1beta3\n",
			"✔ all checks passed\n")
	})

	step("upgrade changes the log level", func(t *testing.T) {
		r := runFlux(t, "", "install", "--log-level=debug", "--timeout=2m", kc)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		wants(t, "stdout", r.stdout, "Deployment/flux-system/source-controller configured\n",
			"CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io unchanged\n", "Namespace/flux-system unchanged\n")
		for _, name := range []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"} {
			d, err := cs.AppsV1().Deployments("flux-system").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			args := d.Spec.Template.Spec.Containers[0].Args
			if !slices.Contains(args, "--log-level=debug") || slices.Contains(args, "--log-level=info") {
				t.Errorf("%s args after upgrade: %q", name, args)
			}
		}
	})

	// A Flux object with a finalizer and no controller to remove it: uninstall must not hang.
	repo := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "podinfo", "namespace": "default", "finalizers": []any{"finalizers.fluxcd.io"}},
		"spec":     map[string]any{"url": "https://example.com/podinfo", "interval": "1m"},
	}}
	if err := cl.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}

	step("uninstall declined", func(t *testing.T) {
		r := runFlux(t, "n\n", "uninstall", kc)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1", r.code)
		}
		wants(t, "stderr", r.stderr, "Are you sure you want to delete Flux and its custom resource definitions? [y/N] ", "✗ aborting")
		if _, err := cs.AppsV1().Deployments("flux-system").Get(ctx, "source-controller", metav1.GetOptions{}); err != nil {
			t.Errorf("declined uninstall deleted something: %v", err)
		}
	})

	step("uninstall --dry-run", func(t *testing.T) {
		r := runFlux(t, "", "uninstall", "--dry-run", kc)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		wants(t, "stderr", r.stderr, "✔ Deployment/flux-system/source-controller deleted (dry run)",
			"✔ GitRepository/default/podinfo finalizers deleted (dry run)",
			"✔ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io deleted (dry run)",
			"✔ Namespace/flux-system deleted (dry run)")
		got := repo.DeepCopy()
		if err := cl.Get(ctx, client.ObjectKeyFromObject(repo), got); err != nil || len(got.GetFinalizers()) != 1 {
			t.Errorf("dry run changed the GitRepository: %v %v", got.GetFinalizers(), err)
		}
		if _, err := cs.AppsV1().Deployments("flux-system").Get(ctx, "source-controller", metav1.GetOptions{}); err != nil {
			t.Errorf("dry run deleted a Deployment: %v", err)
		}
	})

	step("uninstall", func(t *testing.T) {
		start := time.Now()
		r := runFlux(t, "", "uninstall", "--silent", "--timeout=1m", kc)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		t.Logf("uninstall took %s", time.Since(start))
		wants(t, "stderr", r.stderr, "► deleting components in flux-system namespace\n✔ Deployment/flux-system/",
			"✔ ClusterRole/crd-controller-flux-system deleted", "✔ NetworkPolicy/flux-system/allow-webhooks deleted",
			"✔ GitRepository/default/podinfo finalizers deleted", "✔ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io deleted",
			"✔ Namespace/flux-system deleted", "✔ uninstall finished")
		if err := cl.Get(ctx, client.ObjectKeyFromObject(repo), repo.DeepCopy()); err == nil {
			t.Error("the GitRepository survived uninstall")
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "crd-controller-flux-system", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ClusterRoleBinding crd-controller-flux-system: %v", err)
		}
		waitNotFound(t, ctx, "namespace flux-system", func() error {
			_, err := cs.CoreV1().Namespaces().Get(ctx, "flux-system", metav1.GetOptions{})
			return err
		})
	})

	step("reinstall into a namespace Flux does not own", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "keep-me", Namespace: "tenant"}, Data: map[string]string{"a": "b"}}
		if _, err := cs.CoreV1().ConfigMaps("tenant").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The pods are only created (and become Ready) if they pass the restricted policy.
		r := runFlux(t, "", "install", "-n", "tenant", "--components=source-controller,kustomize-controller", "--timeout=2m", kc)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		wants(t, "stderr", r.stderr, "using the existing namespace tenant as it is", "✔ source-controller: deployment ready")
		if strings.Contains(r.stdout, "Namespace/tenant") {
			t.Error("install applied the namespace it does not own")
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "crd-controller-tenant", metav1.GetOptions{}); err != nil {
			t.Error(err)
		}
		r = runFlux(t, "", "check", "-n", "tenant", kc)
		if r.code != 0 {
			t.Fatalf("check: exit %d", r.code)
		}
		// A controller that cannot roll out (its new pod fits no node) fails the check.
		patch := []byte(`{"spec":{"template":{"spec":{"nodeSelector":{"gotk.dev/no-such-node":"true"}}}}}`)
		if _, err := cs.AppsV1().Deployments("tenant").Patch(ctx, "kustomize-controller", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		r = runFlux(t, "", "check", "-n", "tenant", "--timeout=2s", kc)
		if r.code != 1 {
			t.Fatalf("check of a stuck rollout: exit %d, want 1", r.code)
		}
		wants(t, "stderr", r.stderr, "✔ source-controller: deployment ready", "✗ kustomize-controller: ", "✗ check failed")
		r = runFlux(t, "", "uninstall", "-n", "tenant", "--silent", kc)
		if r.code != 0 {
			t.Fatalf("uninstall: exit %d", r.code)
		}
		wants(t, "stderr", r.stderr, "✔ Deployment/tenant/source-controller deleted",
			"namespace tenant is not labelled app.kubernetes.io/part-of=flux (Flux did not create it): keeping it")
		if _, err := cs.CoreV1().ConfigMaps("tenant").Get(ctx, "keep-me", metav1.GetOptions{}); err != nil {
			t.Errorf("other content of the namespace: %v", err)
		}
		got, err := cs.CoreV1().Namespaces().Get(ctx, "tenant", metav1.GetOptions{})
		if err != nil || got.DeletionTimestamp != nil {
			t.Errorf("namespace tenant: %v (deleting: %v)", err, got != nil && got.DeletionTimestamp != nil)
		}
	})
}

// waitNotFound polls get until it reports NotFound (a minute at most).
func waitNotFound(t *testing.T, ctx context.Context, what string, get func() error) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		err := get()
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Errorf("%s was not deleted: %v", what, err)
	}
}

// TestUnreachableCluster: every command that needs the cluster fails with exit 1 and an
// error naming the API server's address, and never prints the kubeconfig's credentials.
func TestUnreachableCluster(t *testing.T) {
	port := closedPort(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	const token = "s3cr3t-b3ar3r-t0k3n"
	data := `apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster:
    server: https://127.0.0.1:` + port + `
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: ` + token + `
contexts:
- name: c
  context: {cluster: gone, user: u}
current-context: c
`
	if err := os.WriteFile(kubeconfig, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"install"}, {"check"}, {"check", "--pre"}, {"uninstall", "--silent"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := runFlux(t, "", append(args, "--kubeconfig="+kubeconfig, "--timeout=5s")...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			wants(t, "stderr", r.stderr, "✗ cannot reach the Kubernetes API server at https://127.0.0.1:"+port)
			if strings.Contains(r.stderr+r.stdout, token) {
				t.Error("the bearer token was printed")
			}
		})
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr[strings.LastIndex(addr, ":")+1:]
}
