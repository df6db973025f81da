package reconcile

import (
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"gotk.dev/pkg/timeline"
)

// startSpan begins the timeline record of a reconcile of req (nil without a Timeline).
func (c *Controller[T, S]) startSpan(req ctrl.Request, start time.Time) *timeline.Span {
	if c.o.Timeline == nil {
		return nil
	}
	return &timeline.Span{Kind: c.o.Kind, Namespace: req.Namespace, Name: req.Name, Start: start,
		Queued: c.o.Timeline.QueuedAt(c.o.Kind, req)}
}

// recordStep adds a step that ran to the span.
func recordStep(span *timeline.Span, name string, d time.Duration) {
	if span != nil {
		span.Steps = append(span.Steps, timeline.Step{Name: name, Seconds: d.Seconds()})
	}
}

// setOutcome says how the steps ended: res and err are what the steps returned.
func setOutcome(span *timeline.Span, res Result, err error, requeue ctrl.Result) {
	if span == nil {
		return
	}
	span.RequeueAfterSeconds = requeue.RequeueAfter.Seconds()
	switch {
	case err == nil && res.Progressing:
		span.Outcome, span.Reason = timeline.Progressing, orDefault(res.Reason, "")
	case err == nil:
		span.Outcome = timeline.Ready
	default:
		span.Reason = ReasonOf(err)
		stalling, waiting, _ := classify(err)
		switch {
		case stalling != nil:
			span.Outcome = timeline.Stalled
		case waiting != nil:
			span.Outcome = timeline.Waiting
		default:
			span.Outcome = timeline.Failed
		}
	}
}

// endSpan records the span; outcome is used when the steps did not set one.
func (c *Controller[T, S]) endSpan(span *timeline.Span, generation int64, outcome string) {
	if span == nil {
		return
	}
	span.End = time.Now()
	span.Generation = generation
	if span.Outcome == "" {
		span.Outcome = outcome
	}
	c.o.Timeline.Record(*span)
}
