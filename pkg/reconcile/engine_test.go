package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"gotk.dev/internal/testing/testkind"
	"gotk.dev/pkg/reconcile"
)

func succeed(msg string) func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
	return func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
		return reconcile.Result{Message: msg}, nil
	}
}

// withinJitter fails unless d is the interval spread by at most pct percent.
func withinJitter(t *testing.T, d, interval time.Duration, pct int) {
	t.Helper()
	spread := interval * time.Duration(pct) / 100
	if d < interval-spread || d > interval+spread {
		t.Errorf("RequeueAfter = %s, want %s +/- %s", d, interval, spread)
	}
}

func TestReconcileFirstRunThenNoOp(t *testing.T) {
	for _, tc := range []struct {
		name          string
		successReason string
		wantReason    string
	}{
		{name: "source", successReason: meta.SucceededReason, wantReason: meta.SucceededReason},
		{name: "applier", successReason: meta.ReconciliationSucceededReason, wantReason: meta.ReconciliationSucceededReason},
		{name: "default", successReason: "", wantReason: meta.SucceededReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
				calls.Add(1)
				return reconcile.Result{Message: "stored artifact for revision main@sha1:abc"}, nil
			})
			h.opts.SuccessReason = tc.successReason
			h.create(t, "repo", nil)

			res, err := h.reconcile(t, "repo")
			if err != nil {
				t.Fatalf("first reconcile: %v", err)
			}
			withinJitter(t, res.RequeueAfter, testInterval, 5)
			obj := h.get(t, "repo")
			if !controllerutil.ContainsFinalizer(obj, reconcile.DefaultFinalizer) {
				t.Errorf("finalizers = %v, want %s", obj.Finalizers, reconcile.DefaultFinalizer)
			}
			ready := reconcile.GetCondition(obj, meta.ReadyCondition)
			if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != tc.wantReason ||
				ready.Message != "stored artifact for revision main@sha1:abc" || ready.ObservedGeneration != obj.Generation {
				t.Errorf("Ready = %+v, want True/%s with the steps' message", ready, tc.wantReason)
			}
			for _, typ := range []string{meta.ReconcilingCondition, meta.StalledCondition} {
				if c := reconcile.GetCondition(obj, typ); c != nil {
					t.Errorf("unexpected condition %+v", c)
				}
			}
			if obj.Status.ObservedGeneration != obj.Generation {
				t.Errorf("observedGeneration = %d, want %d", obj.Status.ObservedGeneration, obj.Generation)
			}
			if !reconcile.IsReady(obj) {
				t.Error("IsReady = false after a successful reconcile")
			}
			if got := h.client.statusWrites(); got != 1 {
				t.Errorf("first reconcile sent %d status writes, want 1", got)
			}
			if got := h.client.patches.Load(); got != 1 {
				t.Errorf("first reconcile sent %d patches, want 1 (the finalizer)", got)
			}

			// Nothing changed: the second reconcile must not write anything.
			rv := obj.ResourceVersion
			h.client.patches.Store(0)
			h.client.statusPatches.Store(0)
			res, err = h.reconcile(t, "repo")
			if err != nil {
				t.Fatalf("second reconcile: %v", err)
			}
			withinJitter(t, res.RequeueAfter, testInterval, 5)
			if got := h.client.statusWrites() + h.client.patches.Load(); got != 0 {
				t.Errorf("no-op reconcile sent %d writes, want 0", got)
			}
			if got := h.get(t, "repo").ResourceVersion; got != rv {
				t.Errorf("resourceVersion moved from %s to %s on a no-op reconcile", rv, got)
			}
			if calls.Load() != 2 {
				t.Errorf("steps called %d times, want 2", calls.Load())
			}
		})
	}
}

func TestReconcileOutcomes(t *testing.T) {
	cause := errors.New("cannot reach git.example.com")
	for _, tc := range []struct {
		name        string
		err         error
		wantErr     bool
		wantRequeue time.Duration
		wantReason  string
		wantMessage string
		// wantReadyReason and wantReadyMessage default to wantReason and wantMessage.
		wantReadyReason, wantReadyMessage string
		wantStalled                       bool
		wantReconciling                   bool
		wantObservedGen                   bool
		wantEvent                         bool
	}{
		{
			name: "stall", err: reconcile.Stall(meta.InvalidURLReason, errors.New("URL scheme ftp is not supported")),
			wantReason: meta.InvalidURLReason, wantMessage: "URL scheme ftp is not supported",
			wantStalled: true, wantObservedGen: true, wantEvent: true,
		},
		{
			name: "wrapped stall", err: fmt.Errorf("validate spec: %w", reconcile.Stall("InvalidRef", errors.New("bad ref"))),
			wantReason: "InvalidRef", wantMessage: "validate spec: bad ref",
			wantStalled: true, wantObservedGen: true, wantEvent: true,
		},
		{
			name:       "stall keeping the Ready summary",
			err:        reconcile.StallWithReady("RetriesExceeded", errors.New("Failed to upgrade after 2 attempt(s)"), "UpgradeFailed", "Helm upgrade failed: timeout"),
			wantReason: "RetriesExceeded", wantMessage: "Failed to upgrade after 2 attempt(s)",
			wantReadyReason: "UpgradeFailed", wantReadyMessage: "Helm upgrade failed: timeout",
			wantStalled: true, wantObservedGen: true, wantEvent: true,
		},
		{
			name: "wait with delay", err: reconcile.Wait(meta.DependencyNotReadyReason, errors.New("dependency default/a is not ready"), 7*time.Second),
			wantRequeue: 7 * time.Second, wantReason: meta.DependencyNotReadyReason,
			wantMessage: "dependency default/a is not ready", wantReconciling: true,
		},
		{
			name: "wait default delay", err: reconcile.Wait(meta.DependencyNotReadyReason, errors.New("source not ready"), 0),
			wantRequeue: testRequeueDependency, wantReason: meta.DependencyNotReadyReason,
			wantMessage: "source not ready", wantReconciling: true,
		},
		{
			name: "fail", err: reconcile.Fail("GitOperationFailed", cause), wantErr: true,
			wantReason: "GitOperationFailed", wantMessage: cause.Error(), wantReconciling: true, wantEvent: true,
		},
		{
			name: "fail after", err: reconcile.FailAfter("HealthCheckFailed", cause, 9*time.Second),
			wantRequeue: 9 * time.Second, wantReason: "HealthCheckFailed", wantMessage: cause.Error(),
			wantReconciling: true, wantEvent: true,
		},
		{
			name: "untyped", err: cause, wantErr: true,
			wantReason: "ReconciliationFailed", wantMessage: cause.Error(), wantReconciling: true, wantEvent: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
				return reconcile.Result{}, tc.err
			})
			h.opts.EventMetadata = func(obj *testkind.TestObject) map[string]string {
				return map[string]string{"source.toolkit.fluxcd.io/revision": "main@sha1:" + obj.Name}
			}
			h.create(t, "repo", nil)
			res, err := h.reconcile(t, "repo")
			if tc.wantErr {
				if err == nil || !errors.Is(err, cause) {
					t.Errorf("error = %v, want one wrapping %v (backoff)", err, cause)
				}
			} else if err != nil {
				t.Errorf("error = %v, want nil", err)
			}
			if res.RequeueAfter != tc.wantRequeue {
				t.Errorf("RequeueAfter = %s, want %s", res.RequeueAfter, tc.wantRequeue)
			}
			obj := h.get(t, "repo")
			readyReason, readyMessage := tc.wantReason, tc.wantMessage
			if tc.wantReadyReason != "" {
				readyReason, readyMessage = tc.wantReadyReason, tc.wantReadyMessage
			}
			ready := reconcile.GetCondition(obj, meta.ReadyCondition)
			if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != readyReason || ready.Message != readyMessage {
				t.Errorf("Ready = %+v, want False/%s/%q", ready, readyReason, readyMessage)
			}
			if got := reconcile.IsTrue(obj, meta.StalledCondition); got != tc.wantStalled {
				t.Errorf("Stalled=True is %t, want %t (conditions %+v)", got, tc.wantStalled, obj.Status.Conditions)
			}
			if tc.wantStalled {
				if c := reconcile.GetCondition(obj, meta.StalledCondition); c.Reason != tc.wantReason || c.Message != tc.wantMessage {
					t.Errorf("Stalled = %s/%q, want %s/%q", c.Reason, c.Message, tc.wantReason, tc.wantMessage)
				}
			}
			if got := reconcile.IsTrue(obj, meta.ReconcilingCondition); got != tc.wantReconciling {
				t.Errorf("Reconciling=True is %t, want %t (conditions %+v)", got, tc.wantReconciling, obj.Status.Conditions)
			}
			if tc.wantReconciling {
				if c := reconcile.GetCondition(obj, meta.ReconcilingCondition); c.Reason != meta.ProgressingWithRetryReason {
					t.Errorf("Reconciling reason = %s, want %s", c.Reason, meta.ProgressingWithRetryReason)
				}
			}
			if got := obj.Status.ObservedGeneration == obj.Generation; got != tc.wantObservedGen {
				t.Errorf("observedGeneration = %d, generation %d: equal is %t, want %t",
					obj.Status.ObservedGeneration, obj.Generation, got, tc.wantObservedGen)
			}
			if reconcile.IsReady(obj) {
				t.Error("IsReady = true after a failure")
			}
			if tc.wantEvent {
				ev := waitForEvent(t, h.ns, "repo", tc.wantReason)
				if ev.Type != corev1.EventTypeWarning || ev.Message != tc.wantMessage {
					t.Errorf("event type %s message %q, want Warning %q", ev.Type, ev.Message, tc.wantMessage)
				}
				if rev := ev.Annotations["source.toolkit.fluxcd.io/revision"]; rev != "main@sha1:repo" {
					t.Errorf("event annotations %v, want the EventMetadata revision", ev.Annotations)
				}
			}
		})
	}
}

func TestReconcileRecoversAfterStall(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
		if fail.Load() {
			return reconcile.Result{}, reconcile.Stall(meta.InvalidURLReason, errors.New("invalid URL"))
		}
		return reconcile.Result{Message: "ok"}, nil
	})
	h.create(t, "repo", nil)
	if _, err := h.reconcile(t, "repo"); err != nil {
		t.Fatal(err)
	}
	stalledAt := reconcile.GetCondition(h.get(t, "repo"), meta.ReadyCondition)
	fail.Store(false)
	if _, err := h.reconcile(t, "repo"); err != nil {
		t.Fatal(err)
	}
	obj := h.get(t, "repo")
	if !reconcile.IsReady(obj) || reconcile.GetCondition(obj, meta.StalledCondition) != nil {
		t.Errorf("conditions after recovery = %+v, want Ready=True and no Stalled", obj.Status.Conditions)
	}
	ready := reconcile.GetCondition(obj, meta.ReadyCondition)
	if ready.LastTransitionTime.Before(&stalledAt.LastTransitionTime) {
		t.Errorf("Ready lastTransitionTime went back from %s to %s", stalledAt.LastTransitionTime, ready.LastTransitionTime)
	}
}

func TestReconcileRequestedAt(t *testing.T) {
	h := newHarness(t, succeed("ok"))
	h.create(t, "repo", func(o *testkind.TestObject) {
		o.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "2024-05-01T10:00:00Z"}
	})
	if _, err := h.reconcile(t, "repo"); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, "repo").Status.LastHandledReconcileAt; got != "2024-05-01T10:00:00Z" {
		t.Errorf("lastHandledReconcileAt = %q, want the requestedAt token", got)
	}

	// A new token (flux reconcile) is recorded, in one status patch.
	obj := h.get(t, "repo")
	obj.Annotations[meta.ReconcileRequestAnnotation] = "second"
	if err := env.Client.Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	h.client.statusPatches.Store(0)
	if _, err := h.reconcile(t, "repo"); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, "repo").Status.LastHandledReconcileAt; got != "second" {
		t.Errorf("lastHandledReconcileAt = %q, want %q", got, "second")
	}
	if got := h.client.statusWrites(); got != 1 {
		t.Errorf("status writes = %d, want 1", got)
	}
}

func TestReconcileSuspended(t *testing.T) {
	var calls atomic.Int32
	h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
		calls.Add(1)
		return reconcile.Result{}, nil
	})
	before := h.create(t, "repo", func(o *testkind.TestObject) { o.Spec.Suspend = true })
	res, err := h.reconcile(t, "repo")
	if err != nil || res.RequeueAfter != 0 {
		t.Errorf("reconcile = %+v, %v; want no requeue and no error", res, err)
	}
	if calls.Load() != 0 {
		t.Errorf("steps called %d times for a suspended object", calls.Load())
	}
	obj := h.get(t, "repo")
	if len(obj.Status.Conditions) != 0 || obj.Status.ObservedGeneration != before.Status.ObservedGeneration {
		t.Errorf("status of a suspended object changed: %+v (was %+v)", obj.Status, before.Status)
	}
	if got := h.client.statusWrites(); got != 0 {
		t.Errorf("status writes = %d, want 0", got)
	}
	if got := gaugeValue(t, h, "gotk_suspend_status", "repo"); got != 1 {
		t.Errorf("gotk_suspend_status = %v, want 1", got)
	}
}

func TestReconcileDeletion(t *testing.T) {
	h := newHarness(t, succeed("ok"))
	var finalized atomic.Int32
	var mode atomic.Int32 // 0 succeed, 1 wait, 2 fail
	h.opts.Finalize = func(_ context.Context, obj *testkind.TestObject) error {
		finalized.Add(1)
		if obj.DeletionTimestamp.IsZero() {
			t.Errorf("Finalize called on %s without a deletion timestamp", obj.Name)
		}
		switch mode.Load() {
		case 1:
			return reconcile.Wait("GarbageCollecting", errors.New("artifacts still in use"), 0)
		case 2:
			return errors.New("cannot remove storage directory")
		}
		return nil
	}
	h.create(t, "repo", nil)
	if _, err := h.reconcile(t, "repo"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(context.Background(), h.get(t, "repo")); err != nil {
		t.Fatal(err)
	}

	mode.Store(1)
	res, err := h.reconcile(t, "repo")
	if err != nil || res.RequeueAfter != testRequeueDependency {
		t.Errorf("finalize waiting: %+v, %v; want RequeueAfter %s and no error", res, err, testRequeueDependency)
	}
	if obj := h.get(t, "repo"); !controllerutil.ContainsFinalizer(obj, reconcile.DefaultFinalizer) {
		t.Error("finalizer removed while Finalize was waiting")
	}

	mode.Store(2)
	if _, err := h.reconcile(t, "repo"); err == nil {
		t.Error("finalize failure: want an error")
	}
	if obj := h.get(t, "repo"); !controllerutil.ContainsFinalizer(obj, reconcile.DefaultFinalizer) {
		t.Error("finalizer removed although Finalize failed")
	}
	waitForEvent(t, h.ns, "repo", "FinalizeFailed")

	mode.Store(0)
	res, err = h.reconcile(t, "repo")
	if err != nil || res.RequeueAfter != 0 {
		t.Errorf("finalize: %+v, %v; want no requeue and no error", res, err)
	}
	if finalized.Load() != 3 {
		t.Errorf("Finalize called %d times, want 3", finalized.Load())
	}
	err = env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: "repo"}, &testkind.TestObject{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("get after finalize: %v, want NotFound", err)
	}
	// The delete event's reconcile finds nothing and does nothing.
	if res, err := h.reconcile(t, "repo"); err != nil || res.RequeueAfter != 0 {
		t.Errorf("reconcile of a deleted object: %+v, %v", res, err)
	}
}

func TestReconcileDeletionWithoutFinalize(t *testing.T) {
	var calls atomic.Int32
	h := newHarness(t, func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
		calls.Add(1)
		return reconcile.Result{}, nil
	})
	h.create(t, "repo", nil)
	if _, err := h.reconcile(t, "repo"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(context.Background(), h.get(t, "repo")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.reconcile(t, "repo"); err != nil {
		t.Fatal(err)
	}
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: "repo"}, &testkind.TestObject{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("get after deletion: %v, want NotFound", err)
	}
	if calls.Load() != 1 {
		t.Errorf("steps called %d times, want 1 (not during deletion)", calls.Load())
	}
}

func TestReconcileMetrics(t *testing.T) {
	h := newHarness(t, succeed("ok"))
	h.create(t, "repo", nil)
	for range 2 {
		if _, err := h.reconcile(t, "repo"); err != nil {
			t.Fatal(err)
		}
	}
	if got := histogramCount(t, h, "gotk_reconcile_duration_seconds", "repo"); got != 2 {
		t.Errorf("gotk_reconcile_duration_seconds count = %d, want 2", got)
	}
	if got := gaugeValue(t, h, "gotk_suspend_status", "repo"); got != 0 {
		t.Errorf("gotk_suspend_status = %v, want 0", got)
	}
	if err := env.Client.Delete(context.Background(), h.get(t, "repo")); err != nil {
		t.Fatal(err)
	}
	for range 2 { // remove the finalizer, then the delete event
		if _, err := h.reconcile(t, "repo"); err != nil {
			t.Fatal(err)
		}
	}
	if got := histogramCount(t, h, "gotk_reconcile_duration_seconds", "repo"); got != -1 {
		t.Errorf("gotk_reconcile_duration_seconds of a deleted object still exported (count %d)", got)
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{time.Second, time.Minute, 10 * time.Minute, 7*time.Hour + 3} {
		for _, pct := range []uint8{1, 5, 10, 50, 99} {
			spread := time.Duration(float64(d) * float64(pct) / 100)
			lo, hi := d-spread, d+spread
			var below, above bool
			for range 5000 {
				got := reconcile.Jitter(d, pct)
				if got < lo || got > hi {
					t.Fatalf("Jitter(%s, %d) = %s, outside [%s, %s]", d, pct, got, lo, hi)
				}
				below = below || got < d-spread/2
				above = above || got > d+spread/2
			}
			if !below || !above {
				t.Errorf("Jitter(%s, %d) does not spread both ways (below %t, above %t)", d, pct, below, above)
			}
		}
	}
	for _, tc := range []struct {
		d   time.Duration
		pct uint8
	}{{0, 5}, {-time.Second, 5}, {time.Minute, 0}} {
		if got := reconcile.Jitter(tc.d, tc.pct); got != tc.d {
			t.Errorf("Jitter(%s, %d) = %s, want unchanged", tc.d, tc.pct, got)
		}
	}
}

// TestReconcileDeferred: a Deferred result writes no status when the steps changed only
// conditions (the next reconcile writes the outcome once) and requeues after its delay; when
// the steps changed more, the status is written as for InProgress.
func TestReconcileDeferred(t *testing.T) {
	var message atomic.Value
	message.Store("")
	var deferNow atomic.Bool
	h := newHarness(t, func(_ context.Context, o *testkind.TestObject) (reconcile.Result, error) {
		if !deferNow.Load() {
			return reconcile.Result{Message: "applied"}, nil
		}
		reconcile.SetCondition(o, "Healthy", metav1.ConditionUnknown, meta.ProgressingReason, "Running health checks")
		o.Status.Message = message.Load().(string)
		return reconcile.Defer(meta.ProgressingReason, "waiting for: Deployment/apps/web", 30*time.Second), nil
	})
	h.create(t, "app", nil)
	if _, err := h.reconcile(t, "app"); err != nil {
		t.Fatal(err)
	}
	before := h.get(t, "app")

	deferNow.Store(true)
	h.client.statusPatches.Store(0)
	res, err := h.reconcile(t, "app")
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != 30*time.Second {
		t.Errorf("RequeueAfter = %s, want the deferred result's 30s", res.RequeueAfter)
	}
	if got := h.client.statusWrites(); got != 0 {
		t.Errorf("a deferred reconcile that changed only conditions sent %d status writes", got)
	}
	if got := h.get(t, "app"); got.ResourceVersion != before.ResourceVersion {
		t.Errorf("resourceVersion moved from %s to %s", before.ResourceVersion, got.ResourceVersion)
	}

	message.Store("inventory changed")
	if _, err := h.reconcile(t, "app"); err != nil {
		t.Fatal(err)
	}
	obj := h.get(t, "app")
	if obj.Status.Message != "inventory changed" {
		t.Errorf("status.message = %q: a deferred reconcile that changed more than conditions must write the status", obj.Status.Message)
	}
	if c := reconcile.GetCondition(obj, meta.ReconcilingCondition); c == nil || c.Status != metav1.ConditionTrue || c.Message != "waiting for: Deployment/apps/web" {
		t.Errorf("Reconciling = %+v, want True as for InProgress", c)
	}
}
