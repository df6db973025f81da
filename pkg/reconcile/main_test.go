package reconcile_test

import (
	"context"
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

	"gotk.dev/internal/testing/testenv"
	"gotk.dev/internal/testing/testkind"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/metrics"
	"gotk.dev/pkg/reconcile"
)

// env is the API server shared by the tests of this package; set once by TestMain, read-only
// afterwards. Each test works in its own namespace.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{}) }

// stepFunc is the one step of a harness's controller.
type stepFunc = func(context.Context, *testkind.TestObject) (reconcile.Result, error)

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

// harness builds a Controller for TestObjects wired to the test API server from opts, which
// a test may adjust before reconciling.
type harness struct {
	opts    reconcile.Options[*testkind.TestObject, *testkind.TestObject]
	client  *countingClient
	metrics *prometheus.Registry
	ns      string
}

const (
	testInterval          = time.Minute
	testRequeueDependency = 13 * time.Second
)

// newHarness creates a namespace and options whose single step is step.
func newHarness(t *testing.T, step stepFunc) *harness {
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
		opts: reconcile.Options[*testkind.TestObject, *testkind.TestObject]{
			Shared:        reconcile.Shared{Events: rec, Metrics: m, RequeueDependency: testRequeueDependency, JitterPercent: 5},
			Client:        cc,
			Kind:          testkind.Kind,
			NewObject:     func() *testkind.TestObject { return &testkind.TestObject{} },
			Steps:         []reconcile.Step[*testkind.TestObject]{{Name: "test", Run: step}},
			SuccessReason: "Succeeded",
		},
		client:  cc,
		metrics: reg,
		ns:      ns.Name,
	}
}

// create stores a TestObject named name, letting mutate adjust it first.
func (h *harness) create(t *testing.T, name string, mutate func(*testkind.TestObject)) *testkind.TestObject {
	t.Helper()
	obj := &testkind.TestObject{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns},
		Spec: testkind.TestObjectSpec{
			URL:      "https://git.example.com/org/repo",
			Interval: metav1.Duration{Duration: testInterval},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create TestObject %s/%s: %v", h.ns, name, err)
	}
	return obj
}

func (h *harness) reconcile(t *testing.T, name string) (ctrl.Result, error) {
	t.Helper()
	c, err := reconcile.New(h.opts)
	if err != nil {
		t.Fatalf("reconcile.New: %v", err)
	}
	return c.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: h.ns, Name: name}})
}

// get reads the object from the API server (no cache).
func (h *harness) get(t *testing.T, name string) *testkind.TestObject {
	t.Helper()
	obj := &testkind.TestObject{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: name}, obj); err != nil {
		t.Fatalf("get TestObject %s/%s: %v", h.ns, name, err)
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

// hasLabels reports whether labels are those of a TestObject ns/name.
func hasLabels[L interface {
	GetName() string
	GetValue() string
}](labels []L, ns, name string) bool {
	want := map[string]string{"kind": testkind.Kind, "namespace": ns, "name": name}
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

// request is the reconcile request of the harness's object name.
func request(h *harness, name string) ctrl.Request {
	return ctrl.Request{NamespacedName: types.NamespacedName{Namespace: h.ns, Name: name}}
}

// histogramCountLabels returns the sample count of histogram family with exactly labels,
// -1 when there is no such series.
func histogramCountLabels(t *testing.T, h *harness, family string, labels map[string]string) int {
	t.Helper()
	fams, err := h.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return int(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// waitForEventOf polls the API server for any Kubernetes Event about object name.
func waitForEventOf(t *testing.T, ns, name string) corev1.Event {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var list corev1.EventList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			t.Fatalf("list events: %v", err)
		}
		for _, ev := range list.Items {
			if ev.InvolvedObject.Name == name {
				return ev
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no event about %s/%s", ns, name)
	return corev1.Event{}
}
