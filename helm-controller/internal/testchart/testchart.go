// Package testchart holds the helm-controller's test charts and what their tests need of a
// cluster: a real kube-apiserver started lazily (gotk.dev/internal/testing/testenv.Lazy) with
// a stand-in kubelet (gotk.dev/internal/testing/kubelet) that finishes Helm hook pods. Only
// tests import it.
package testchart

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"

	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/internal/testing/kubelet"
	"gotk.dev/internal/testing/testenv"
)

// PhaseAnnotation on a test hook pod names the phase the stand-in kubelet gives it
// (Succeeded when absent, Failed for podinfo's "fault-test" pods).
const PhaseAnnotation = "test.gotk.dev/phase"

// Server returns the lazily started API server of a test package: the first test that
// needs it starts it, with the field manager the controller writes as and a kubelet that
// finishes Helm hook and test pods. Stop it from TestMain (testenv.MainLazy).
func Server(opts testenv.Options) *testenv.Lazy {
	return &testenv.Lazy{Options: opts, Setup: func(env *testenv.Env) (func(), error) {
		kube.UseFieldManager(kube.DefaultFieldManager)
		ctx, cancel := context.WithCancel(context.Background())
		kubelet.Start(ctx, env.Client, kubelet.Options{Pods: HookPhase})
		return cancel, nil
	}}
}

// HookPhase is the phase a Helm hook pod (a test or any other hook) ends in: the
// PhaseAnnotation, else Failed for podinfo's "fault-test" pods, else Succeeded. Other
// pods are left alone.
func HookPhase(pod *corev1.Pod) corev1.PodPhase {
	if pod.Annotations["helm.sh/hook"] == "" {
		return ""
	}
	switch phase := corev1.PodPhase(pod.Annotations[PhaseAnnotation]); {
	case phase != "":
		return phase
	case strings.Contains(pod.Name, "fault-test"):
		return corev1.PodFailed
	default:
		return corev1.PodSucceeded
	}
}

// Dir returns the directory of a test chart: internal/testdata/charts/<name> ("widgets",
// "widgets-v2", ...), or for "podinfo" the shared podinfo fixture.
func Dir(tb testing.TB, name string) string {
	tb.Helper()
	if name != "podinfo" {
		return filepath.Join(testdata(), "charts", name)
	}
	return helmrepo.PodinfoDir()
}

// Chart loads a test chart (see Dir).
func Chart(tb testing.TB, name string) *chart.Chart {
	tb.Helper()
	dir := Dir(tb, name)
	c, err := loader.Load(dir)
	if err != nil {
		tb.Fatalf("load chart %s: %v", dir, err)
	}
	return c
}

// testdata is internal/testdata of the helm-controller module.
func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}
