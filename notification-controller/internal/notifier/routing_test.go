package notifier

import (
	"testing"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

func TestShouldSend(t *testing.T) {
	update := eventv1.Event{Metadata: map[string]string{"commit_status": "update"}}
	plain := eventv1.Event{}
	for _, tt := range []struct {
		typ  string
		ev   *eventv1.Event
		want bool
	}{
		{"github", &update, true}, {"slack", &update, false}, {"slack", &plain, true}, {"gitlab", &plain, true},
	} {
		if got := ShouldSend(tt.typ, tt.ev); got != tt.want {
			t.Errorf("ShouldSend(%s, %v) = %v", tt.typ, tt.ev.Metadata, got)
		}
	}
	if len(SupportedTypes()) != 28 {
		t.Errorf("SupportedTypes() has %d types", len(SupportedTypes()))
	}
}
