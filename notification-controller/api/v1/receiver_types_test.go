package v1

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReceiverGetRequeueAfter(t *testing.T) {
	tests := []struct {
		name     string
		interval *metav1.Duration
		want     time.Duration
	}{
		{name: "unset falls back to default", want: 10 * time.Minute},
		{name: "set interval wins", interval: &metav1.Duration{Duration: time.Minute}, want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Receiver{Spec: ReceiverSpec{Interval: tt.interval}}
			if got := r.GetRequeueAfter(); got != tt.want {
				t.Errorf("GetRequeueAfter() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReceiverGetWebhookPath(t *testing.T) {
	tests := []struct {
		name, namespace, token string
	}{
		{name: "app", namespace: "flux-system", token: "s3cr3t"},
		{name: "other", namespace: "default", token: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Receiver{ObjectMeta: metav1.ObjectMeta{Name: tt.name, Namespace: tt.namespace}}
			want := fmt.Sprintf("/hook/%x", sha256.Sum256([]byte(tt.token+tt.name+tt.namespace)))
			if got := r.GetWebhookPath(tt.token); got != want {
				t.Errorf("GetWebhookPath() = %q, want %q", got, want)
			}
		})
	}
	// A known value, so that a change of the formula cannot go unnoticed.
	r := &Receiver{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "c"}}
	const want = "/hook/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // sha256("abc")
	if got := r.GetWebhookPath("a"); got != want {
		t.Errorf("GetWebhookPath(a) = %q, want %q", got, want)
	}
}

func TestReceiverStatusAccessors(t *testing.T) {
	r := &Receiver{Spec: ReceiverSpec{Suspend: true}}
	r.SetConditions([]metav1.Condition{{Type: meta.ReadyCondition, Reason: InitializedReason}})
	r.SetObservedGeneration(7)
	r.SetLastHandledReconcileRequest("now")
	if got := r.GetConditions(); len(got) != 1 || got[0].Reason != InitializedReason {
		t.Errorf("GetConditions() = %v", got)
	}
	if got := r.GetObservedGeneration(); got != 7 {
		t.Errorf("GetObservedGeneration() = %d, want 7", got)
	}
	if got := r.GetLastHandledReconcileRequest(); got != "now" {
		t.Errorf("GetLastHandledReconcileRequest() = %q, want now", got)
	}
	if !r.IsSuspended() {
		t.Error("IsSuspended() = false, want true")
	}
}

func TestOIDCProviderGetAudience(t *testing.T) {
	tests := []struct {
		audience, want string
	}{
		{audience: "", want: "notification-controller"},
		{audience: "custom", want: "custom"},
	}
	for _, tt := range tests {
		p := &OIDCProvider{Audience: tt.audience}
		if got := p.GetAudience(); got != tt.want {
			t.Errorf("GetAudience() = %q, want %q", got, tt.want)
		}
	}
}
