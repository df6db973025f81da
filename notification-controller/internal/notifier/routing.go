package notifier

import (
	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"

	"gotk.dev/notification-controller/api/v1beta3"
)

// IsCommitStatusType reports whether a provider type sets Git commit statuses.
func IsCommitStatusType(providerType string) bool {
	return (&v1beta3.Provider{Spec: v1beta3.ProviderSpec{Type: providerType}}).SupportsCommitStatusExpr()
}

// ShouldSend reports whether an event is for a provider type: events flagged as commit
// status updates (`commit_status: update` metadata) exist only to set a commit status, so
// they go to Git commit status providers alone.
func ShouldSend(providerType string, ev *eventv1.Event) bool {
	if ev.HasMetadata(eventv1.MetaCommitStatusKey, eventv1.MetaCommitStatusUpdateValue) {
		return IsCommitStatusType(providerType)
	}
	return true
}
