package reconcile_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/testkind"
	"gotk.dev/pkg/reconcile"
)

func TestSetCondition(t *testing.T) {
	obj := &testkind.TestObject{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
	reconcile.MarkFalse(obj, meta.ReadyCondition, "GitOperationFailed", "timeout")
	first := *reconcile.GetCondition(obj, meta.ReadyCondition)
	if first.ObservedGeneration != 4 || first.LastTransitionTime.IsZero() {
		t.Errorf("condition = %+v, want observedGeneration 4 and a transition time", first)
	}

	// Same status, new message: the transition time stays.
	first.LastTransitionTime = metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))
	obj.SetConditions([]metav1.Condition{first})
	reconcile.MarkFalse(obj, meta.ReadyCondition, "GitOperationFailed", "timeout again")
	if got := reconcile.GetCondition(obj, meta.ReadyCondition); !got.LastTransitionTime.Equal(&first.LastTransitionTime) || got.Message != "timeout again" {
		t.Errorf("condition after a same-status update = %+v", got)
	}
	// New status: it moves.
	reconcile.MarkTrue(obj, meta.ReadyCondition, meta.SucceededReason, "ok")
	if got := reconcile.GetCondition(obj, meta.ReadyCondition); got.LastTransitionTime.Equal(&first.LastTransitionTime) {
		t.Error("transition time kept across a status change")
	}

	reconcile.MarkTrue(obj, meta.StalledCondition, "InvalidURL", "bad")
	reconcile.DeleteCondition(obj, meta.StalledCondition)
	reconcile.DeleteCondition(obj, meta.ReconcilingCondition) // absent: no-op
	if len(obj.Status.Conditions) != 1 || reconcile.GetCondition(obj, meta.StalledCondition) != nil {
		t.Errorf("conditions = %+v, want Ready only", obj.Status.Conditions)
	}
}

func TestConditionMessageLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
	}{
		{"ascii", strings.Repeat("a", 50000)},
		{"multibyte", strings.Repeat("ü", 30000)}, // the cut falls inside a two-byte rune
		{"mixed", "x" + strings.Repeat("日本", 20000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &testkind.TestObject{}
			reconcile.MarkFalse(obj, meta.ReadyCondition, "BuildFailed", tc.msg)
			got := reconcile.GetCondition(obj, meta.ReadyCondition).Message
			if len(got) > 20003 || !strings.HasSuffix(got, "...") {
				t.Errorf("message of %d bytes not cut to the limit (%d bytes)", len(tc.msg), len(got))
			}
			if !utf8.ValidString(got) {
				t.Error("cut message is not valid UTF-8")
			}
			if !strings.HasPrefix(tc.msg, strings.TrimSuffix(got, "...")) {
				t.Error("cut message is not a prefix of the original")
			}
		})
	}
}

func TestIsReady(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      metav1.ConditionStatus
		observedGen int64
		want        bool
	}{
		{"ready", metav1.ConditionTrue, 2, true},
		{"stale generation", metav1.ConditionTrue, 1, false},
		{"not ready", metav1.ConditionFalse, 2, false},
		{"unknown", metav1.ConditionUnknown, 2, false},
		{"no condition", "", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &testkind.TestObject{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
			obj.Status.ObservedGeneration = tc.observedGen
			if tc.status != "" {
				reconcile.SetCondition(obj, meta.ReadyCondition, tc.status, "R", "m")
			}
			if got := reconcile.IsReady(obj); got != tc.want {
				t.Errorf("IsReady = %t, want %t", got, tc.want)
			}
		})
	}
}

// FuzzConditionMessage sets arbitrary messages: the stored message is valid UTF-8, within
// the API server's limit, and a prefix of the original (plus "...") when cut.
func FuzzConditionMessage(f *testing.F) {
	f.Add("ok")
	f.Add(strings.Repeat("日本", 12000))
	f.Add("invalid \xff utf-8")
	f.Fuzz(func(t *testing.T, msg string) {
		if !utf8.ValidString(msg) {
			return // messages come from Go errors; the API server refuses invalid UTF-8 anyway
		}
		obj := &testkind.TestObject{}
		reconcile.MarkFalse(obj, "Ready", "Failed", msg)
		got := reconcile.GetCondition(obj, "Ready").Message
		if !utf8.ValidString(got) || len(got) > 20003 {
			t.Fatalf("stored message of %d bytes (valid UTF-8 %t)", len(got), utf8.ValidString(got))
		}
		if got != msg && !strings.HasPrefix(msg, strings.TrimSuffix(got, "...")) {
			t.Fatal("stored message is not a prefix of the original")
		}
	})
}
