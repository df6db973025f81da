package v1beta3

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestProviderGetTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout *metav1.Duration
		want    time.Duration
	}{
		{name: "unset falls back to 15s", want: 15 * time.Second},
		{name: "set timeout wins", timeout: &metav1.Duration{Duration: time.Minute}, want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Provider{Spec: ProviderSpec{Timeout: tt.timeout}}
			if got := p.GetTimeout(); got != tt.want {
				t.Errorf("GetTimeout() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProviderGetRequeueAfter(t *testing.T) {
	tests := []struct {
		name     string
		interval *metav1.Duration
		want     time.Duration
	}{
		{name: "unset is zero", want: 0},
		{name: "set interval is returned", interval: &metav1.Duration{Duration: time.Hour}, want: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Provider{Spec: ProviderSpec{Interval: tt.interval}}
			if got := p.GetRequeueAfter(); got != tt.want {
				t.Errorf("GetRequeueAfter() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProviderSupportsCommitStatusExpr(t *testing.T) {
	tests := []struct {
		typ  string
		want bool
	}{
		{GitHubProvider, true},
		{GitLabProvider, true},
		{GiteaProvider, true},
		{BitbucketServerProvider, true},
		{BitbucketProvider, true},
		{AzureDevOpsProvider, true},
		{SlackProvider, false},
		{GenericProvider, false},
		{GitHubDispatchProvider, false},
	}
	for _, tt := range tests {
		p := &Provider{Spec: ProviderSpec{Type: tt.typ}}
		if got := p.SupportsCommitStatusExpr(); got != tt.want {
			t.Errorf("SupportsCommitStatusExpr(%s) = %v, want %v", tt.typ, got, tt.want)
		}
	}
}

func TestSuspendAndSeverity(t *testing.T) {
	tests := []struct {
		severity, want string
	}{
		{severity: "", want: EventSeverityInfo},
		{severity: EventSeverityError, want: EventSeverityError},
	}
	for _, tt := range tests {
		a := &Alert{Spec: AlertSpec{EventSeverity: tt.severity}}
		if got := a.GetEventSeverity(); got != tt.want {
			t.Errorf("GetEventSeverity() = %q, want %q", got, tt.want)
		}
	}
	if !(&Alert{Spec: AlertSpec{Suspend: true}}).IsSuspended() {
		t.Error("Alert.IsSuspended() = false, want true")
	}
	if !(&Provider{Spec: ProviderSpec{Suspend: true}}).IsSuspended() {
		t.Error("Provider.IsSuspended() = false, want true")
	}
}
