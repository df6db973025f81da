// Package dispatch delivers events asynchronously: one bounded queue and its own workers per
// Provider, so a slow or failing provider delays only its own events. Enqueue never blocks;
// when a provider's queue is full the event is dropped and counted.
package dispatch

import (
	"context"
	"errors"
	"sync"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/prometheus/client_golang/prometheus"

	"gotk.dev/notification-controller/internal/notifier"
)

// Defaults of Options.
const (
	DefaultQueueSize       = 256
	DefaultWorkers         = 1
	DefaultDeliveryTimeout = 2 * time.Minute
)

var (
	// ErrQueueFull is returned by Enqueue when the provider's queue is full; the event is dropped.
	ErrQueueFull = errors.New("the provider's delivery queue is full")
	// ErrStopped is returned by Enqueue after Stop.
	ErrStopped = errors.New("the dispatcher is stopped")
)

// Provider identifies a queue: the Provider object and its type (for metrics).
type Provider struct {
	Namespace, Name, Type string
}

func (p Provider) key() string { return p.Namespace + "/" + p.Name }

// Result is the outcome of one delivery, for logs and Kubernetes events.
type Result struct {
	Provider Provider
	Event    eventv1.Event
	Err      error
	Duration time.Duration
}

// Options configure a Dispatcher.
type Options struct {
	// QueueSize bounds each provider's queue (DefaultQueueSize when 0).
	QueueSize int
	// Workers per provider (DefaultWorkers when 0). One keeps a provider's events in order,
	// which Git commit statuses need.
	Workers int
	// DeliveryTimeout bounds one delivery including its retries (DefaultDeliveryTimeout when 0);
	// the notifier's own timeout bounds each attempt.
	DeliveryTimeout time.Duration
	// OnResult, when set, is called after every delivery from the worker goroutine.
	OnResult func(Result)
	// Registerer registers the metrics; nil registers none.
	Registerer prometheus.Registerer
}

type job struct {
	ctx context.Context
	n   notifier.Notifier
	ev  eventv1.Event
}

type queue struct {
	jobs chan job
	done sync.WaitGroup
}

// Dispatcher owns the per-provider queues.
type Dispatcher struct {
	opts       Options
	ctx        context.Context
	cancel     context.CancelFunc
	mu         sync.Mutex
	queues     map[string]*queue
	stopped    bool
	dispatched *prometheus.CounterVec
	failed     *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

// New returns a running Dispatcher.
func New(o Options) (*Dispatcher, error) {
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = DefaultDeliveryTimeout
	}
	labels := []string{"namespace", "name", "type"}
	d := &Dispatcher{
		opts:   o,
		queues: map[string]*queue{},
		dispatched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gotk_notification_events_dispatched_total", Help: "Events delivered to a provider."}, labels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gotk_notification_events_failed_total", Help: "Events whose delivery to a provider failed (after retries)."}, labels),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gotk_notification_events_dropped_total", Help: "Events dropped because the provider's queue was full."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gotk_notification_delivery_duration_seconds", Help: "Duration of deliveries to a provider, retries included.",
			Buckets: prometheus.DefBuckets}, labels),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{d.dispatched, d.failed, d.dropped, d.duration} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Enqueue queues ev for delivery through n, the notifier of provider p. It never blocks.
// ctx carries values (a logger, a trace) to the delivery; its cancellation is ignored, since
// the delivery outlives the request that enqueued it.
func (d *Dispatcher) Enqueue(ctx context.Context, p Provider, n notifier.Notifier, ev eventv1.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return ErrStopped
	}
	q, ok := d.queues[p.key()]
	if !ok {
		q = &queue{jobs: make(chan job, d.opts.QueueSize)}
		d.queues[p.key()] = q
		for i := 0; i < d.opts.Workers; i++ {
			q.done.Add(1)
			go d.work(p, q)
		}
	}
	select {
	case q.jobs <- job{ctx: context.WithoutCancel(ctx), n: n, ev: ev}:
		return nil
	default:
		d.dropped.WithLabelValues(p.Namespace, p.Name, p.Type).Inc()
		return ErrQueueFull
	}
}

func (d *Dispatcher) work(p Provider, q *queue) {
	defer q.done.Done()
	for j := range q.jobs {
		if d.ctx.Err() != nil {
			continue // stopping: drain without delivering
		}
		ctx, cancel := context.WithTimeout(j.ctx, d.opts.DeliveryTimeout)
		stop := context.AfterFunc(d.ctx, cancel)
		start := time.Now()
		err := j.n.Post(ctx, j.ev)
		stop()
		cancel()
		elapsed := time.Since(start)
		d.duration.WithLabelValues(p.Namespace, p.Name, p.Type).Observe(elapsed.Seconds())
		if err != nil {
			d.failed.WithLabelValues(p.Namespace, p.Name, p.Type).Inc()
		} else {
			d.dispatched.WithLabelValues(p.Namespace, p.Name, p.Type).Inc()
		}
		if d.opts.OnResult != nil {
			d.opts.OnResult(Result{Provider: p, Event: j.ev, Err: err, Duration: elapsed})
		}
	}
}

// Forget stops the workers of a provider (deleted, or its notifier rebuilt) once its queued
// events are delivered.
func (d *Dispatcher) Forget(namespace, name string) {
	d.mu.Lock()
	q, ok := d.queues[namespace+"/"+name]
	delete(d.queues, namespace+"/"+name)
	d.mu.Unlock()
	if ok {
		close(q.jobs)
	}
}

// Stop refuses new events and waits for the queued ones to be delivered, until ctx ends;
// then in-flight deliveries are cancelled and the rest dropped.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return nil
	}
	d.stopped = true
	queues := d.queues
	d.queues = map[string]*queue{}
	d.mu.Unlock()
	for _, q := range queues {
		close(q.jobs)
	}
	done := make(chan struct{})
	go func() {
		for _, q := range queues {
			q.done.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return ctx.Err()
	}
}
