package reconcile_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/events"
	"gotk.dev/pkg/metrics"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/internal/testing/testenv"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// env is the API server shared by the tests of this package; set once by TestMain, read-only
// afterwards. Each test works in its own namespace.
var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop testenv:", err)
	}
	os.Exit(code)
}

// countingClient delegates everything to the real client and counts the writes, so tests can
// check how many requests a reconcile sends.
type countingClient struct {
	client.Client
	patches       atomic.Int32
	statusPatches atomic.Int32
	statusUpdates atomic.Int32
}

func (c *countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.patches.Add(1)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c *countingClient) Status() client.SubResourceWriter {
	return &countingStatus{SubResourceWriter: c.Client.Status(), c: c}
}

type countingStatus struct {
	client.SubResourceWriter
	c *countingClient
}

func (s *countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.c.statusPatches.Add(1)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s *countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.c.statusUpdates.Add(1)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

// writes returns the number of status writes so far.
func (c *countingClient) statusWrites() int32 { return c.statusPatches.Load() + c.statusUpdates.Load() }

// harness is a Controller for GitRepository objects wired to the test API server.
type harness struct {
	ctrl    *reconcile.Controller[*sourcev1.GitRepository]
	client  *countingClient
	metrics *prometheus.Registry
	ns      string
}

const (
	testInterval          = time.Minute
	testRequeueDependency = 13 * time.Second
)

// newHarness creates a namespace and a controller whose Steps is steps.
func newHarness(t *testing.T, steps func(context.Context, *sourcev1.GitRepository, *reconcile.Patcher) (reconcile.Result, error)) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rec-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	rec, err := events.NewRecorder(env.Config, events.Options{Controller: "test-controller", Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = rec.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	reg := prometheus.NewRegistry()
	m, err := metrics.NewRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingClient{Client: env.Client}
	return &harness{
		ctrl: &reconcile.Controller[*sourcev1.GitRepository]{
			Client:            cc,
			Kind:              sourcev1.GitRepositoryKind,
			Events:            rec,
			Metrics:           m,
			NewObject:         func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
			Steps:             steps,
			SuccessReason:     "Succeeded",
			RequeueDependency: testRequeueDependency,
			JitterPercent:     5,
		},
		client:  cc,
		metrics: reg,
		ns:      ns.Name,
	}
}

// create stores a GitRepository named name, letting mutate adjust it first.
func (h *harness) create(t *testing.T, name string, mutate func(*sourcev1.GitRepository)) *sourcev1.GitRepository {
	t.Helper()
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns},
		Spec: sourcev1.GitRepositorySpec{
			URL:      "https://git.example.com/org/repo",
			Interval: metav1.Duration{Duration: testInterval},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create GitRepository %s/%s: %v", h.ns, name, err)
	}
	return obj
}

func (h *harness) reconcile(t *testing.T, name string) (ctrl.Result, error) {
	t.Helper()
	return h.ctrl.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: h.ns, Name: name}})
}

// get reads the object from the API server (no cache).
func (h *harness) get(t *testing.T, name string) *sourcev1.GitRepository {
	t.Helper()
	obj := &sourcev1.GitRepository{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: name}, obj); err != nil {
		t.Fatalf("get GitRepository %s/%s: %v", h.ns, name, err)
	}
	return obj
}

// waitForEvent polls the API server for a Kubernetes Event about object name with reason.
func waitForEvent(t *testing.T, ns, name, reason string) corev1.Event {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var seen []string
	for time.Now().Before(deadline) {
		var list corev1.EventList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			t.Fatalf("list events: %v", err)
		}
		seen = seen[:0]
		for _, ev := range list.Items {
			if ev.InvolvedObject.Name == name && ev.Reason == reason {
				return ev
			}
			seen = append(seen, ev.InvolvedObject.Name+"/"+ev.Reason)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no event with reason %s about %s/%s; events: %s", reason, ns, name, strings.Join(seen, ", "))
	return corev1.Event{}
}

// gaugeValue returns the value of gauge family for object name in the harness' registry.
func gaugeValue(t *testing.T, h *harness, family, name string) float64 {
	t.Helper()
	fams, err := h.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m.GetLabel(), h.ns, name) {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s sample for %s/%s", family, h.ns, name)
	return 0
}

// histogramCount returns the sample count of histogram family for object name, -1 when the
// object has no series.
func histogramCount(t *testing.T, h *harness, family, name string) int {
	t.Helper()
	fams, err := h.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m.GetLabel(), h.ns, name) {
				return int(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// hasLabels reports whether labels are those of a GitRepository ns/name.
func hasLabels[L interface {
	GetName() string
	GetValue() string
}](labels []L, ns, name string) bool {
	want := map[string]string{"kind": sourcev1.GitRepositoryKind, "namespace": ns, "name": name}
	if len(labels) != len(want) {
		return false
	}
	for _, l := range labels {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}
