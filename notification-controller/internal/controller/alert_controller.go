package controller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	apiv1 "gotk.dev/notification-controller/api/v1"
	"gotk.dev/notification-controller/api/v1beta3"
	"gotk.dev/notification-controller/internal/alerts"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
)

// errIndexNotLoaded refuses events until the Alerts were read once: the emitter retries a
// refused event, while an event matched against no Alerts would be lost.
var errIndexNotLoaded = errors.New("the Alerts are not loaded yet")

// AlertIndex is the compiled set of Alerts events are matched against, swapped as a whole
// when an Alert changes. Safe for concurrent use.
type AlertIndex struct {
	p atomic.Pointer[alerts.Index]
}

// Match returns the Alerts ev goes to.
func (a *AlertIndex) Match(ctx context.Context, ev *eventv1.Event, labelsOf alerts.LabelsFunc) ([]*v1beta3.Alert, error) {
	ix := a.p.Load()
	if ix == nil {
		return nil, errIndexNotLoaded
	}
	return ix.Match(ctx, ev, labelsOf)
}

// Loaded reports whether the Alerts were read at least once.
func (a *AlertIndex) Loaded() bool { return a.p.Load() != nil }

// AlertConfig is what an AlertReconciler is built from.
type AlertConfig struct {
	// Index receives every rebuild.
	Index *AlertIndex
	// NoCrossNamespaceRefs (--no-cross-namespace-refs) leaves out event sources in other
	// namespaces than their Alert's.
	NoCrossNamespaceRefs bool
}

// AlertReconciler keeps the AlertIndex current. v1beta3 Alerts are static objects (no
// status): reconciling one means compiling all of them into the index events are matched
// against. Every change to an Alert or a Provider enqueues the same request, so a burst of
// changes costs one rebuild. It runs on every replica, since every replica serves events;
// only the leader records the warning events of invalid Alerts.
type AlertReconciler struct {
	client client.Client
	mgr    ctrl.Manager
	events reconcile.EventRecorder
	AlertConfig

	mu       sync.Mutex
	reported map[types.NamespacedName]string // the problem last reported per Alert
}

// indexRequest is the one request every Alert and Provider change maps to.
var indexRequest = crreconcile.Request{NamespacedName: types.NamespacedName{Name: "alert-index"}}

// NewAlertReconciler builds the reconciler for rt's manager.
func NewAlertReconciler(rt *manager.Runtime, c AlertConfig) (*AlertReconciler, error) {
	if c.Index == nil {
		return nil, errors.New("AlertConfig.Index is required")
	}
	return &AlertReconciler{client: rt.Manager.GetClient(), mgr: rt.Manager, events: rt.Events, AlertConfig: c,
		reported: map[types.NamespacedName]string{}}, nil
}

// SetupWithManager registers the reconciler: Alerts and Providers (an Alert's providerRef)
// trigger a rebuild, and so do the start (an empty cluster gets an empty index) and the
// election (the new leader reports the invalid Alerts).
func (r *AlertReconciler) SetupWithManager(rt *manager.Runtime) error {
	toIndex := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []crreconcile.Request {
		return []crreconcile.Request{indexRequest}
	})
	opts := rt.ControllerOptions()
	opts.NeedLeaderElection = ptrFalse()
	return ctrl.NewControllerManagedBy(rt.Manager).
		Named("alert").
		Watches(&v1beta3.Alert{}, toIndex).
		Watches(&v1beta3.Provider{}, toIndex).
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[crreconcile.Request]) error {
			q.Add(indexRequest)
			return nil
		})).
		WatchesRawSource(onElection(rt.Manager, func(_ context.Context, q workqueue.TypedRateLimitingInterface[crreconcile.Request]) {
			q.Add(indexRequest)
		})).
		WithOptions(opts).
		Complete(r)
}

// Reconcile rebuilds the index from the cache.
func (r *AlertReconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	var list v1beta3.AlertList
	if err := r.client.List(ctx, &list); err != nil {
		return ctrl.Result{}, fmt.Errorf("list Alerts: %w", err)
	}
	var providers v1beta3.ProviderList
	if err := r.client.List(ctx, &providers); err != nil {
		return ctrl.Result{}, fmt.Errorf("list Providers: %w", err)
	}
	// A stable order: Match returns Alerts in this order, and so deliveries are made.
	sort.Slice(list.Items, func(i, j int) bool {
		a, b := list.Items[i], list.Items[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	ix, problems := alerts.NewIndex(list.Items, alerts.Options{NoCrossNamespaceRefs: r.NoCrossNamespaceRefs})
	r.Index.p.Store(ix)
	ctrl.LoggerFrom(ctx).V(1).Info("alert index rebuilt", "alerts", ix.Len())

	found := map[types.NamespacedName]bool{}
	for _, p := range providers.Items {
		found[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}] = true
	}
	byAlert := map[string][]string{}
	for _, p := range problems {
		byAlert[p.Alert] = append(byAlert[p.Alert], p.Err.Error())
	}
	for i := range list.Items {
		a := &list.Items[i]
		ref := types.NamespacedName{Namespace: a.Namespace, Name: a.Spec.ProviderRef.Name}
		if !a.Spec.Suspend && !found[ref] {
			id := a.Namespace + "/" + a.Name
			byAlert[id] = append(byAlert[id], fmt.Sprintf("spec.providerRef: Provider '%s/%s' not found", ref.Namespace, ref.Name))
		}
	}
	r.report(ctx, list.Items, byAlert)
	return ctrl.Result{}, dropStaleFinalizers(ctx, r.client, r.mgr, alertObjects(list.Items))
}

// report logs the problems of each Alert and, on the leader, records them as a warning
// event when they changed since the last report.
func (r *AlertReconciler) report(ctx context.Context, items []v1beta3.Alert, byAlert map[string][]string) {
	leader := isLeader(r.mgr)
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[types.NamespacedName]bool{}
	for i := range items {
		a := &items[i]
		key := types.NamespacedName{Namespace: a.Namespace, Name: a.Name}
		seen[key] = true
		msgs := byAlert[key.String()]
		if len(msgs) == 0 {
			delete(r.reported, key)
			continue
		}
		msg := fmt.Sprintf("Alert %s is invalid: %s", key, strings.Join(msgs, "; "))
		if r.reported[key] == msg {
			continue
		}
		ctrl.LoggerFrom(ctx).Error(errors.New(msg), "invalid Alert", "alert", key.String())
		if leader {
			r.events.Event(a, eventv1.EventSeverityError, apiv1.ValidationFailedReason, msg, nil)
			r.reported[key] = msg
		}
	}
	for key := range r.reported {
		if !seen[key] {
			delete(r.reported, key)
		}
	}
}

func alertObjects(items []v1beta3.Alert) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

func ptrFalse() *bool { b := false; return &b }
