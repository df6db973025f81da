package reconcile

import (
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/timeline"
)

// EventRecorder records an event about an object: events.Recorder writes a Kubernetes Event
// and posts it to notification-controller.
type EventRecorder interface {
	Event(obj client.Object, severity, reason, message string, annotations map[string]string)
}

// MetricsRecorder records per-object reconcile metrics: metrics.Recorder exports them under
// Flux's names.
type MetricsRecorder interface {
	// RecordDuration observes one reconcile of kind namespace/name that started at start.
	RecordDuration(kind, namespace, name string, start time.Time)
	// RecordStep observes how long one step of a reconcile of kind took.
	RecordStep(kind, step string, d time.Duration)
	// RecordSuspend sets whether the object is suspended.
	RecordSuspend(kind, namespace, name string, suspended bool)
	// Forget drops the series of a deleted object.
	Forget(kind, namespace, name string)
}

// Shared is what every controller of one process shares: the recorders and the process-wide
// retry settings. manager.Runtime.Shared returns it from the flags.
type Shared struct {
	Events  EventRecorder
	Metrics MetricsRecorder
	// RequeueDependency is the requeue delay of Waiting errors without their own
	// (--requeue-dependency).
	RequeueDependency time.Duration
	// JitterPercent spreads interval requeues by +/- this percentage
	// (--interval-jitter-percentage).
	JitterPercent uint8
	// Timeline keeps a record of each reconcile (queue wait, steps, status patch, outcome);
	// nil keeps none.
	Timeline *timeline.Recorder
}

type discardEvents struct{}

func (discardEvents) Event(client.Object, string, string, string, map[string]string) {}

type discardMetrics struct{}

func (discardMetrics) RecordDuration(string, string, string, time.Time) {}
func (discardMetrics) RecordStep(string, string, time.Duration)         {}
func (discardMetrics) RecordSuspend(string, string, string, bool)       {}
func (discardMetrics) Forget(string, string, string)                    {}
