// Package metrics holds the Prometheus metrics every controller exports under Flux's names,
// registered on controller-runtime's registry (served on --metrics-addr /metrics).
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Recorder records reconcile metrics for one controller process.
type Recorder struct {
	duration *prometheus.HistogramVec
	step     *prometheus.HistogramVec
	suspend  *prometheus.GaugeVec
}

// NewRecorder creates the metrics and registers them with reg (nil: controller-runtime's
// global registry, which the manager serves).
func NewRecorder(reg prometheus.Registerer) (*Recorder, error) {
	if reg == nil {
		reg = crmetrics.Registry
	}
	r := &Recorder{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gotk_reconcile_duration_seconds",
			Help:    "The duration in seconds of a GitOps Toolkit resource reconciliation.",
			Buckets: prometheus.ExponentialBuckets(10e-3, 2, 10),
		}, []string{"kind", "name", "namespace"}),
		// Per kind and step, not per object: it tells where reconciles spend their time
		// (fetch, build, apply, health, ...) at a cardinality that stays small.
		step: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gotk_reconcile_step_duration_seconds",
			Help:    "The duration in seconds of one step of a GitOps Toolkit resource reconciliation.",
			Buckets: prometheus.ExponentialBuckets(1e-3, 2, 16),
		}, []string{"kind", "step"}),
		suspend: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gotk_suspend_status",
			Help: "The current suspend status of a GitOps Toolkit resource.",
		}, []string{"kind", "name", "namespace"}),
	}
	for _, c := range []prometheus.Collector{r.duration, r.step, r.suspend} {
		if err := reg.Register(c); err != nil {
			if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
				// A second recorder in one process (tests) shares the first's collectors.
				switch c {
				case r.duration:
					r.duration = are.ExistingCollector.(*prometheus.HistogramVec)
				case r.step:
					r.step = are.ExistingCollector.(*prometheus.HistogramVec)
				case r.suspend:
					r.suspend = are.ExistingCollector.(*prometheus.GaugeVec)
				}
				continue
			}
			return nil, err
		}
	}
	return r, nil
}

// RecordDuration observes one reconcile of kind namespace/name that started at start.
func (r *Recorder) RecordDuration(kind, namespace, name string, start time.Time) {
	r.duration.WithLabelValues(kind, name, namespace).Observe(time.Since(start).Seconds())
}

// RecordStep observes how long one step of a reconcile of kind took.
func (r *Recorder) RecordStep(kind, step string, d time.Duration) {
	r.step.WithLabelValues(kind, step).Observe(d.Seconds())
}

// RecordSuspend sets the suspend gauge of an object.
func (r *Recorder) RecordSuspend(kind, namespace, name string, suspended bool) {
	v := 0.0
	if suspended {
		v = 1
	}
	r.suspend.WithLabelValues(kind, name, namespace).Set(v)
}

// Forget drops an object's series once it is deleted, so cardinality follows the live objects.
func (r *Recorder) Forget(kind, namespace, name string) {
	r.duration.DeleteLabelValues(kind, name, namespace)
	r.suspend.DeleteLabelValues(kind, name, namespace)
}
