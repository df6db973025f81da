// Package testcluster is the shared fixture of the helm-controller's cluster tests: a real
// kube-apiserver (gotk.dev/internal/testing/testenv), namespaces to release into, a stand-in for the
// kubelet that finishes Helm test pods, and the test charts. Only tests import it.
package testcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/internal/testing/testenv"
)

// PhaseAnnotation on a test hook pod names the phase the stand-in kubelet gives it
// (Succeeded when absent, Failed for podinfo's "fault-test" pods).
const PhaseAnnotation = "test.gotk.dev/phase"

// Shared is the API server of one test package, started by the first test that needs
// it (unit tests never do) and stopped by Main.
type Shared struct {
	once   sync.Once
	env    *testenv.Env
	err    error
	cancel context.CancelFunc
}

// Get returns the running API server, starting it (and the stand-in kubelet) on first
// use. It fails the test when the control plane binaries are missing.
func (s *Shared) Get(tb testing.TB) *testenv.Env {
	tb.Helper()
	s.once.Do(func() {
		kube.UseFieldManager(kube.DefaultFieldManager)
		s.env, s.err = testenv.Start(testenv.Options{})
		if s.err != nil {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		go kubelet(ctx, s.env.Client)
	})
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.env
}

// Main runs the tests of m and stops the API server if a test started it. Packages call
// it from TestMain.
func Main(m *testing.M, s *Shared) int {
	code := m.Run()
	if s.env != nil {
		s.cancel()
		if err := s.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
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
