// Package testcluster is the shared fixture of the helm-controller's cluster tests: a real
// kube-apiserver (gotk.dev/pkg/testenv), namespaces to release into, a stand-in for the
// kubelet that finishes Helm test pods, and the test charts. Only tests import it.
package testcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/pkg/testenv"
)

// PhaseAnnotation on a test hook pod names the phase the stand-in kubelet gives it
// (Succeeded when absent, Failed for podinfo's "fault-test" pods).
const PhaseAnnotation = "test.gotk.dev/phase"

// Run starts the API server, runs the tests of m and stops it. Packages call it from
// TestMain; env receives the running environment.
func Run(m *testing.M, env **testenv.Env) int {
	kube.UseFieldManager(kube.DefaultFieldManager)
	e, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*env = e
	ctx, cancel := context.WithCancel(context.Background())
	go kubelet(ctx, e.Client)
	code := m.Run()
	cancel()
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

var nsCounter atomic.Int64

// Namespace creates a new namespace (with the default ServiceAccount pods need, as no
// controller-manager creates it) and returns its name.
func Namespace(t *testing.T, env *testenv.Env) string {
	t.Helper()
	name := fmt.Sprintf("hr-%d-%d", time.Now().UnixNano()%100000, nsCounter.Add(1))
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: name}}); err != nil {
		t.Fatal(err)
	}
	return name
}

// kubelet gives every Helm test pod its final phase, as a kubelet running it would.
func kubelet(ctx context.Context, c client.Client) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var pods corev1.PodList
		if err := c.List(ctx, &pods); err != nil {
			continue
		}
		for i := range pods.Items {
			pod := &pods.Items[i]
			if !strings.Contains(pod.Annotations["helm.sh/hook"], "test") || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
				continue
			}
			phase := corev1.PodPhase(pod.Annotations[PhaseAnnotation])
			switch {
			case phase != "":
			case strings.Contains(pod.Name, "fault-test"):
				phase = corev1.PodFailed
			default:
				phase = corev1.PodSucceeded
			}
			pod.Status.Phase = phase
			_ = c.Status().Update(ctx, pod)
		}
	}
}

// Chart loads a chart of internal/testdata/charts ("widgets", "widgets-v2") or, for
// "podinfo", the shared podinfo fixture.
func Chart(t *testing.T, env *testenv.Env, name string) *chart.Chart {
	t.Helper()
	dir := filepath.Join(testdata(), "charts", name)
	if name == "podinfo" {
		dir = filepath.Join(env.Root, "..", "shared", "fixtures", "charts", "podinfo")
		if _, err := os.Stat(dir); err != nil {
			dir = "/work/shared/fixtures/charts/podinfo"
		}
	}
	c, err := loader.Load(dir)
	if err != nil {
		t.Fatalf("load chart %s: %v", dir, err)
	}
	return c
}

// testdata is internal/testdata of the helm-controller module.
func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}
