package controller

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"gotk.dev/notification-controller/api/v1beta3"
	"gotk.dev/notification-controller/internal/dispatch"
	"gotk.dev/notification-controller/internal/intake"
	"gotk.dev/notification-controller/internal/notifier"
	"gotk.dev/pkg/manager"
)

// Routing workers: events are routed (matched to Alerts, their Providers resolved) off the
// request path. An object's events always go through the same worker, so they reach each
// Provider's queue in the order they arrived (a Git commit status must end on the last).
const (
	routeWorkers   = 4
	routeQueueSize = 1024
)

var errRouteQueueFull = errors.New("the event routing queue is full")

// EventServerConfig is what an EventServer is built from.
type EventServerConfig struct {
	// Addr is --events-addr.
	Addr string
	// RateLimitInterval is --rate-limit-interval.
	RateLimitInterval time.Duration
	// Alerts is the index the AlertReconciler keeps.
	Alerts *AlertIndex
	// Providers builds the notifiers.
	Providers *ProviderRegistry
	// Dispatcher delivers; nil builds one with the defaults.
	Dispatcher *dispatch.Dispatcher
	// Registerer registers the intake metrics (the controller-runtime registry when nil).
	Registerer prometheus.Registerer
}

// EventServer is the event intake of --events-addr: it validates and deduplicates the events
// every controller posts, matches them to Alerts and hands them to the Providers' queues.
type EventServer struct {
	*httpServer
	config EventServerConfig
	client client.Client
	reader client.Reader
	log    logr.Logger
	queues [routeWorkers]chan *eventv1.Event
}

// NewEventServer binds --events-addr and adds the server to rt's manager (on every replica)
// with a readiness check that passes once it serves and the Alerts are loaded.
func NewEventServer(rt *manager.Runtime, c EventServerConfig) (*EventServer, error) {
	if c.Alerts == nil || c.Providers == nil {
		return nil, errors.New("EventServerConfig.Alerts and .Providers are required")
	}
	if c.Registerer == nil {
		c.Registerer = crmetrics.Registry
	}
	if c.Dispatcher == nil {
		var err error
		if c.Dispatcher, err = NewDispatcher(rt.Log.WithName("dispatch"), c.Registerer); err != nil {
			return nil, err
		}
	}
	s := &EventServer{config: c, client: rt.Manager.GetClient(), reader: rt.Manager.GetAPIReader(),
		log: rt.Log.WithName("event-server")}
	h, err := intake.NewHandler(intake.Options{Accept: s.accept, RateLimitInterval: c.RateLimitInterval, Registerer: c.Registerer})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	if s.httpServer, err = newHTTPServer("event server", "--events-addr", c.Addr, mux); err != nil {
		return nil, err
	}
	for i := range s.queues {
		s.queues[i] = make(chan *eventv1.Event, routeQueueSize/routeWorkers)
	}
	s.stop = s.drain
	if err := rt.Manager.Add(s); err != nil {
		return nil, err
	}
	return s, rt.Manager.AddReadyzCheck("event-server", func(r *http.Request) error {
		if !c.Alerts.Loaded() {
			return errIndexNotLoaded
		}
		return s.ready(r)
	})
}

// NewDispatcher builds the delivery queues, logging every failed delivery.
func NewDispatcher(log logr.Logger, reg prometheus.Registerer) (*dispatch.Dispatcher, error) {
	return dispatch.New(dispatch.Options{
		Registerer: reg,
		OnResult: func(res dispatch.Result) {
			obj := res.Event.InvolvedObject
			kv := []any{"provider", res.Provider.Namespace + "/" + res.Provider.Name, "type", res.Provider.Type,
				"reason", res.Event.Reason, "involvedObject", obj.Kind + "/" + obj.Namespace + "/" + obj.Name,
				"duration", res.Duration.String()}
			if res.Err != nil {
				log.Error(res.Err, "failed to send notification", kv...)
				return
			}
			log.V(1).Info("notification sent", kv...)
		},
	})
}

// Start runs the routing workers and serves until ctx ends.
func (s *EventServer) Start(ctx context.Context) error {
	for _, q := range s.queues {
		go s.routeLoop(q)
	}
	return s.httpServer.Start(ctx)
}

// accept queues an event for routing; a full queue refuses it (503) and the emitter retries.
func (s *EventServer) accept(_ context.Context, ev *eventv1.Event) error {
	if !s.config.Alerts.Loaded() {
		return errIndexNotLoaded
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Namespace + "/" + ev.InvolvedObject.Name))
	select {
	case s.queues[h.Sum32()%routeWorkers] <- ev:
		return nil
	default:
		return errRouteQueueFull
	}
}

func (s *EventServer) routeLoop(q chan *eventv1.Event) {
	for ev := range q {
		s.route(context.Background(), ev)
	}
}

// drain stops the routing workers once the HTTP server stopped, then lets the queued
// deliveries finish until ctx ends.
func (s *EventServer) drain(ctx context.Context) {
	for _, q := range s.queues {
		close(q)
	}
	if err := s.config.Dispatcher.Stop(ctx); err != nil {
		s.log.Error(err, "notifications still queued at shutdown were dropped")
	}
}

// route sends ev to the Provider of every Alert it matches.
func (s *EventServer) route(ctx context.Context, ev *eventv1.Event) {
	obj := ev.InvolvedObject
	log := s.log.WithValues("involvedObject", obj.Kind+"/"+obj.Namespace+"/"+obj.Name, "reason", ev.Reason)
	matched, err := s.config.Alerts.Match(ctx, ev, s.labelsOf)
	if err != nil {
		log.Error(err, "matching the event's labels against Alerts")
	}
	for _, alert := range matched {
		s.send(ctx, log.WithValues("alert", alert.Namespace+"/"+alert.Name), ev, alert)
	}
}

// send hands ev to alert's Provider queue.
func (s *EventServer) send(ctx context.Context, log logr.Logger, ev *eventv1.Event, alert *v1beta3.Alert) {
	var p v1beta3.Provider
	key := types.NamespacedName{Namespace: alert.Namespace, Name: alert.Spec.ProviderRef.Name}
	if err := s.client.Get(ctx, key, &p); err != nil {
		log.Error(err, "failed to read the Alert's Provider", "provider", key.String())
		return
	}
	if p.Spec.Suspend || !notifier.ShouldSend(p.Spec.Type, ev) {
		return
	}
	n, err := s.config.Providers.Notifier(ctx, &p, alert)
	if err != nil {
		log.Error(err, "failed to build the Provider's notifier", "provider", key.String())
		return
	}
	out, overridden := notifier.PrepareEvent(*ev, alert)
	if len(overridden) > 0 {
		log.Info("Alert eventMetadata keys already set by the event were not overridden", "keys", overridden)
	}
	if err := s.config.Dispatcher.Enqueue(ctx, dispatch.Provider{Namespace: p.Namespace, Name: p.Name, Type: p.Spec.Type}, n, out); err != nil {
		log.Error(err, "notification dropped", "provider", key.String())
	}
}

// labelsOf reads the labels of an event's involved object, for Alerts with matchLabels.
func (s *EventServer) labelsOf(ctx context.Context, ref corev1.ObjectReference) (map[string]string, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gv.WithKind(ref.Kind))
	if err := s.reader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, m); err != nil {
		return nil, err
	}
	return m.GetLabels(), nil
}
