package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"gotk.dev/internal/testing/testkind"
	"gotk.dev/pkg/lenient"
	"gotk.dev/pkg/reconcile"
)

// TestProgressingResult: a step that ends the reconcile InProgress leaves Ready=Unknown and
// Reconciling=True with its reason and message, keeps the observed generation, sends no event
// and requeues after the result's delay.
func TestProgressingResult(t *testing.T) {
	h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
		return reconcile.InProgress("HealthCheckPending", "waiting for Deployment/apps/web", 7*time.Second), nil
	})
	h.create(t, "obj", nil)
	res, err := h.reconcile(t, "obj")
	if err != nil || res.RequeueAfter != 7*time.Second {
		t.Fatalf("reconcile = %+v, %v; want RequeueAfter 7s", res, err)
	}
	obj := h.get(t, "obj")
	rec := reconcile.GetCondition(obj, meta.ReconcilingCondition)
	if rec == nil || rec.Status != metav1.ConditionTrue || rec.Reason != "HealthCheckPending" || rec.Message != "waiting for Deployment/apps/web" {
		t.Errorf("Reconciling = %+v, want True/HealthCheckPending with the result's message", rec)
	}
	if ready := reconcile.GetCondition(obj, meta.ReadyCondition); ready == nil || ready.Status != metav1.ConditionUnknown {
		t.Errorf("Ready = %+v, want Unknown", ready)
	}
	if obj.Status.ObservedGeneration == obj.Generation {
		t.Error("observedGeneration recorded while the reconcile is still in progress")
	}
}

// TestResultReason: a Result's reason replaces the controller's success reason.
func TestResultReason(t *testing.T) {
	h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
		return reconcile.Result{Reason: "UpgradeSucceeded", Message: "Helm upgrade succeeded"}, nil
	})
	h.create(t, "obj", nil)
	if _, err := h.reconcile(t, "obj"); err != nil {
		t.Fatal(err)
	}
	if ready := reconcile.GetCondition(h.get(t, "obj"), meta.ReadyCondition); ready.Reason != "UpgradeSucceeded" {
		t.Errorf("Ready reason = %s, want the result's UpgradeSucceeded", ready.Reason)
	}
}

// TestStepOrderAndOwnedConditions: steps run in order, the zero Result goes on and a
// non-zero one ends the reconcile; a step's owned conditions are removed when it succeeds and
// kept when it fails, and its FailureCondition carries the failure.
func TestStepOrderAndOwnedConditions(t *testing.T) {
	var ran []string
	var fetchErr error
	step := func(name string, res reconcile.Result, err *error) reconcile.Step[*testkind.TestObject] {
		return reconcile.Step[*testkind.TestObject]{Name: name, Run: func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
			ran = append(ran, name)
			if err != nil && *err != nil {
				return reconcile.Result{}, *err
			}
			return res, nil
		}}
	}
	h := newHarness(t, nil)
	fetch := step("fetch", reconcile.Result{}, &fetchErr)
	fetch.FailureCondition = "FetchFailed"
	build := step("build", reconcile.Result{}, nil)
	build.Owns = []string{"BuildFailed"}
	h.opts.Steps = []reconcile.Step[*testkind.TestObject]{fetch, build, step("store", reconcile.Done("stored"), nil), step("never", reconcile.Result{}, nil)}
	h.create(t, "obj", nil)

	// A failure left by an earlier reconcile, and one the build step reports.
	obj := h.get(t, "obj")
	reconcile.MarkTrue(obj, "BuildFailed", "KustomizeError", "old")
	if err := env.Client.Status().Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	fetchErr = reconcile.Fail("GitOperationFailed", errors.New("connection refused"))
	if _, err := h.reconcile(t, "obj"); err == nil {
		t.Fatal("want the fetch failure")
	}
	obj = h.get(t, "obj")
	if c := reconcile.GetCondition(obj, "FetchFailed"); c == nil || c.Status != metav1.ConditionTrue || c.Reason != "GitOperationFailed" || c.Message != "connection refused" {
		t.Errorf("FetchFailed = %+v, want True with the failure's reason and message", c)
	}
	if reconcile.GetCondition(obj, "BuildFailed") == nil {
		t.Error("BuildFailed removed although the build step did not run")
	}
	if strings.Join(ran, ",") != "fetch" {
		t.Errorf("steps run %v, want fetch only", ran)
	}

	ran, fetchErr = nil, nil
	if _, err := h.reconcile(t, "obj"); err != nil {
		t.Fatal(err)
	}
	obj = h.get(t, "obj")
	for _, typ := range []string{"FetchFailed", "BuildFailed"} {
		if c := reconcile.GetCondition(obj, typ); c != nil {
			t.Errorf("%s = %+v after its step succeeded", typ, c)
		}
	}
	if strings.Join(ran, ",") != "fetch,build,store" {
		t.Errorf("steps run %v, want fetch,build,store (store's result ends the reconcile)", ran)
	}
	if ready := reconcile.GetCondition(obj, meta.ReadyCondition); ready.Message != "stored" {
		t.Errorf("Ready message = %q, want the ending step's", ready.Message)
	}
	if n := histogramCountLabels(t, h, "gotk_reconcile_step_duration_seconds", map[string]string{"kind": testkind.Kind, "step": "build"}); n != 1 {
		t.Errorf("build step observed %d times, want 1", n)
	}
}

// scope is a reconcile scope that records its Close.
type scope struct {
	obj    *testkind.TestObject
	closed *bool
}

func (s *scope) Close() { *s.closed = true }

// TestScopeTimeoutAndFinalizer: steps get the scope NewScope made, which is closed after
// them; Timeout bounds their context; a custom finalizer replaces the default one.
func TestScopeTimeoutAndFinalizer(t *testing.T) {
	h := newHarness(t, nil)
	closed := false
	var deadline time.Time
	c, err := reconcile.New(reconcile.Options[*testkind.TestObject, *scope]{
		Shared:    h.opts.Shared,
		Client:    h.client,
		Kind:      testkind.Kind,
		NewObject: func() *testkind.TestObject { return &testkind.TestObject{} },
		NewScope:  func(obj *testkind.TestObject) *scope { return &scope{obj: obj, closed: &closed} },
		Steps: []reconcile.Step[*scope]{{Name: "only", Run: func(ctx context.Context, s *scope) (reconcile.Result, error) {
			deadline, _ = ctx.Deadline()
			s.obj.Status.Message = "seen by the step"
			return reconcile.Done("ok"), nil
		}}},
		Timeout:   func(*testkind.TestObject) time.Duration { return 42 * time.Second },
		Finalizer: "example.com/cleanup",
	})
	if err != nil {
		t.Fatal(err)
	}
	h.create(t, "obj", nil)
	start := time.Now()
	if _, err := c.Reconcile(context.Background(), request(h, "obj")); err != nil {
		t.Fatal(err)
	}
	obj := h.get(t, "obj")
	if !closed {
		t.Error("scope not closed after the steps")
	}
	if obj.Status.Message != "seen by the step" {
		t.Errorf("status.message = %q: the scope's object is not the one patched", obj.Status.Message)
	}
	if d := deadline.Sub(start); d < 40*time.Second || d > 43*time.Second {
		t.Errorf("step deadline %s after the start, want about the 42s Timeout", d)
	}
	if !controllerutil.ContainsFinalizer(obj, "example.com/cleanup") || controllerutil.ContainsFinalizer(obj, reconcile.DefaultFinalizer) {
		t.Errorf("finalizers = %v, want only example.com/cleanup", obj.Finalizers)
	}
}

// TestNewValidates: options that cannot work are refused at construction, not at the first
// reconcile.
func TestNewValidates(t *testing.T) {
	h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) { return reconcile.Result{}, nil })
	for name, mutate := range map[string]func(*reconcile.Options[*testkind.TestObject, *testkind.TestObject]){
		"no client":     func(o *reconcile.Options[*testkind.TestObject, *testkind.TestObject]) { o.Client = nil },
		"no kind":       func(o *reconcile.Options[*testkind.TestObject, *testkind.TestObject]) { o.Kind = "" },
		"no steps":      func(o *reconcile.Options[*testkind.TestObject, *testkind.TestObject]) { o.Steps = nil },
		"unnamed step":  func(o *reconcile.Options[*testkind.TestObject, *testkind.TestObject]) { o.Steps[0].Name = "" },
		"no new object": func(o *reconcile.Options[*testkind.TestObject, *testkind.TestObject]) { o.NewObject = nil },
	} {
		o := h.opts
		o.Steps = append([]reconcile.Step[*testkind.TestObject](nil), h.opts.Steps...)
		mutate(&o)
		if _, err := reconcile.New(o); err == nil {
			t.Errorf("%s: New accepted the options", name)
		}
	}
	if _, err := reconcile.New(reconcile.Options[*testkind.TestObject, *scope]{
		Client: h.client, Kind: testkind.Kind, NewObject: func() *testkind.TestObject { return &testkind.TestObject{} },
		Steps: []reconcile.Step[*scope]{{Name: "s", Run: func(context.Context, *scope) (reconcile.Result, error) { return reconcile.Result{}, nil }}},
	}); err == nil {
		t.Error("New accepted a scope type other than the object without NewScope")
	}
}

// TestMessagesAreRedacted: whatever a step's error or result carries, credentials in URLs
// never reach a condition, an event or the error handed back to controller-runtime.
func TestMessagesAreRedacted(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	for name, step := range map[string]stepFunc{
		"fail": func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
			return reconcile.Result{}, reconcile.Fail("BuildFailed", errors.New("remote base https://bot:"+secret+"@git.example.com/base: 404"))
		},
		"stall": func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
			return reconcile.Result{}, reconcile.Stall("InvalidURL", errors.New("bad URL oci://u:"+secret+"@registry.example.com/app:v1"))
		},
		"untyped": func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
			return reconcile.Result{}, errors.New("GET https://s3.example.com/b/k?X-Amz-Signature=" + secret + " 403")
		},
		"done": func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
			return reconcile.Done("applied from https://x:" + secret + "@git.example.com/repo"), nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, step)
			h.create(t, "obj", nil)
			_, err := h.reconcile(t, "obj")
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("returned error holds the secret: %v", err)
			}
			for _, c := range h.get(t, "obj").Status.Conditions {
				if strings.Contains(c.Message, secret) {
					t.Errorf("condition %s holds the secret: %q", c.Type, c.Message)
				}
			}
			if name == "done" {
				return
			}
			ev := waitForEventOf(t, h.ns, "obj")
			if strings.Contains(ev.Message, secret) {
				t.Errorf("event holds the secret: %q", ev.Message)
			}
		})
	}
}

// TestInvalidSpecStalls: an object read with repaired fields (package lenient: a duration
// that overflows) stalls with a condition naming the field, without running the steps and
// without writing the repair back.
func TestInvalidSpecStalls(t *testing.T) {
	ran := false
	h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
		ran = true
		return reconcile.Done("ok"), nil
	})
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(lenient.Transport(testkind.GroupVersion.Group))
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	h.opts.Client = c
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": testkind.GroupVersion.String(), "kind": testkind.Kind,
		"metadata": map[string]any{"name": "obj", "namespace": h.ns},
		"spec":     map[string]any{"interval": "9999999999999999999h"},
	}}
	if err := env.Client.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := h.reconcile(t, "obj"); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("steps ran on an object whose spec could not be read")
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(u), u); err != nil {
		t.Fatal(err)
	}
	var got testkind.TestObject
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(u), &got); err != nil {
		t.Fatal(err)
	}
	stalled := reconcile.GetCondition(&got, meta.StalledCondition)
	if stalled == nil || stalled.Reason != reconcile.InvalidSpecReason || !strings.Contains(stalled.Message, "spec.interval") {
		t.Errorf("Stalled = %+v, want InvalidSpec naming spec.interval", stalled)
	}
	if v, _, _ := unstructured.NestedString(u.Object, "spec", "interval"); v != "9999999999999999999h" || u.GetAnnotations()[lenient.Annotation] != "" {
		t.Errorf("stored object changed: interval %q, annotations %v", v, u.GetAnnotations())
	}
}
