package timeline

import (
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// NewQueue builds a controller's work queue (controller.Options.NewQueue): controller-runtime's
// priority queue, the default, with the time each request became ready recorded, so the
// reconcile it starts can say how long it waited for a worker (QueuedAt).
func (r *Recorder) NewQueue(name string, rl workqueue.TypedRateLimiter[ctrlreconcile.Request]) workqueue.TypedRateLimitingInterface[ctrlreconcile.Request] {
	q := &queue{
		PriorityQueue: priorityqueue.New(name, func(o *priorityqueue.Opts[ctrlreconcile.Request]) {
			o.RateLimiter = rl
			o.Log = ctrl.Log.WithName("workqueue").WithValues("controller", name)
		}),
		limiter: rl,
		now:     time.Now,
		pending: map[ctrlreconcile.Request]time.Time{},
		taken:   map[ctrlreconcile.Request]time.Time{},
	}
	if r != nil {
		r.mu.Lock()
		r.queues[name] = q
		r.mu.Unlock()
	}
	return q
}

// QueuedAt returns when the request a reconcile of kind is working on became ready in its
// controller's queue (zero when unknown). controller-runtime names a controller after its
// kind in lower case, which is how the queue is found.
func (r *Recorder) QueuedAt(kind string, req ctrlreconcile.Request) time.Time {
	if r == nil {
		return time.Time{}
	}
	r.mu.Lock()
	q := r.queues[strings.ToLower(kind)]
	r.mu.Unlock()
	if q == nil {
		return time.Time{}
	}
	return q.takenAt(req)
}

// queue wraps the priority queue and tracks, per request, the earliest time it became ready
// and not yet handed to a worker — the same minimum the priority queue keeps, as it merges
// adds of one request — and, for requests handed out, that time until the worker is done.
type queue struct {
	priorityqueue.PriorityQueue[ctrlreconcile.Request]
	limiter workqueue.TypedRateLimiter[ctrlreconcile.Request]
	now     func() time.Time

	mu sync.Mutex
	// pending is when each queued request is (or will be, after its delay) ready.
	pending map[ctrlreconcile.Request]time.Time
	// taken is the ready time of each request a worker holds.
	taken map[ctrlreconcile.Request]time.Time
}

func (q *queue) Add(item ctrlreconcile.Request) { q.AddWithOpts(priorityqueue.AddOpts{}, item) }

func (q *queue) AddAfter(item ctrlreconcile.Request, after time.Duration) {
	q.AddWithOpts(priorityqueue.AddOpts{After: after}, item)
}

func (q *queue) AddRateLimited(item ctrlreconcile.Request) {
	q.AddWithOpts(priorityqueue.AddOpts{RateLimited: true}, item)
}

// AddWithOpts records when the items will be ready, then adds them. A rate-limited add asks
// the rate limiter here, as the priority queue would (the shorter of its delay and After), and
// passes the delay on as After: the delay is then known, and the limiter asked once.
func (q *queue) AddWithOpts(o priorityqueue.AddOpts, items ...ctrlreconcile.Request) {
	now := q.now()
	for _, item := range items {
		opts := o
		if opts.RateLimited {
			if rl := q.limiter.When(item); opts.After == 0 || rl < opts.After {
				opts.After = rl
			}
			opts.RateLimited = false
		}
		at := now.Add(max(opts.After, 0))
		q.mu.Lock()
		if old, ok := q.pending[item]; !ok || at.Before(old) {
			q.pending[item] = at
		}
		q.mu.Unlock()
		q.PriorityQueue.AddWithOpts(opts, item)
	}
}

func (q *queue) Get() (ctrlreconcile.Request, bool) {
	item, _, shutdown := q.GetWithPriority()
	return item, shutdown
}

// GetWithPriority hands out a request and moves its ready time to taken.
func (q *queue) GetWithPriority() (ctrlreconcile.Request, int, bool) {
	item, priority, shutdown := q.PriorityQueue.GetWithPriority()
	if !shutdown {
		q.mu.Lock()
		if at, ok := q.pending[item]; ok {
			q.taken[item] = at
			delete(q.pending, item)
		}
		q.mu.Unlock()
	}
	return item, priority, shutdown
}

// Done releases the request. One added again while a worker held it could not be handed out
// before now: its wait for a worker starts now at the earliest.
func (q *queue) Done(item ctrlreconcile.Request) {
	now := q.now()
	q.mu.Lock()
	delete(q.taken, item)
	if at, ok := q.pending[item]; ok && at.Before(now) {
		q.pending[item] = now
	}
	q.mu.Unlock()
	q.PriorityQueue.Done(item)
}

// takenAt is the ready time of a request a worker holds (zero when unknown).
func (q *queue) takenAt(item ctrlreconcile.Request) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.taken[item]
}
