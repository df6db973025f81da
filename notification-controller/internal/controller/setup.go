package controller

import (
	"fmt"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"gotk.dev/pkg/manager"
)

// Controller is notification-controller set up on a manager.
type Controller struct {
	Events   *EventServer
	Webhooks *ReceiverServer
}

// Setup builds notification-controller on rt, as cmd/main.go runs it: the event server and
// the webhook receiver server (on every replica), the Alert and Provider reconcilers that
// keep every replica's routing state current, and the Receiver reconciler (on the leader).
func Setup(rt *manager.Runtime, o Options) (*Controller, error) {
	index := &AlertIndex{}
	registry := NewProviderRegistry(rt.Manager.GetClient())
	dispatcher, err := NewDispatcher(rt.Log.WithName("dispatch"), crmetrics.Registry)
	if err != nil {
		return nil, err
	}
	events, err := NewEventServer(rt, EventServerConfig{Addr: o.EventsAddr, RateLimitInterval: o.RateLimitInterval,
		Alerts: index, Providers: registry, Dispatcher: dispatcher})
	if err != nil {
		return nil, err
	}
	webhooks, err := NewReceiverServer(rt, ReceiverServerConfig{Addr: o.ReceiverAddr, NoCrossNamespaceRefs: o.NoCrossNamespaceRefs})
	if err != nil {
		return nil, err
	}
	alerts, err := NewAlertReconciler(rt, AlertConfig{Index: index, NoCrossNamespaceRefs: o.NoCrossNamespaceRefs})
	if err != nil {
		return nil, err
	}
	if err := alerts.SetupWithManager(rt); err != nil {
		return nil, fmt.Errorf("Alert controller: %w", err)
	}
	providers, err := NewProviderReconciler(rt, ProviderConfig{Registry: registry, Dispatcher: dispatcher})
	if err != nil {
		return nil, err
	}
	if err := providers.SetupWithManager(rt); err != nil {
		return nil, fmt.Errorf("Provider controller: %w", err)
	}
	receivers, err := NewReceiverReconciler(rt, ReceiverConfig{NoCrossNamespaceRefs: o.NoCrossNamespaceRefs})
	if err != nil {
		return nil, err
	}
	if err := receivers.SetupWithManager(rt); err != nil {
		return nil, fmt.Errorf("Receiver controller: %w", err)
	}
	return &Controller{Events: events, Webhooks: webhooks}, nil
}
