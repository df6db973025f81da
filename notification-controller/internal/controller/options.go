// Package controller is notification-controller: the Receiver reconciler, the Alert and
// Provider reconcilers that keep the event routing state of every replica current, the event
// server (--events-addr: events in, alerts out) and the webhook receiver server
// (--receiverAddr: webhooks in, reconcile requests out).
package controller

import (
	"time"

	"gotk.dev/pkg/options"

	"github.com/spf13/pflag"
)

// Options are notification-controller's own flags, with upstream's names and defaults.
type Options struct {
	// EventsAddr is where the event server listens (--events-addr, :9090).
	EventsAddr string
	// ReceiverAddr is where the webhook receiver server listens (--receiverAddr, :9292).
	ReceiverAddr string
	// RateLimitInterval suppresses an identical event within it (--rate-limit-interval, 5m).
	RateLimitInterval time.Duration
	// NoCrossNamespaceRefs keeps Alerts and Receivers to objects of their own namespace.
	NoCrossNamespaceRefs bool
}

// FeatureGates are the gates --feature-gates accepts, with their defaults.
func FeatureGates() options.Gates {
	// Upstream's notification-controller knows only the gates every controller has
	// (options.CommonGates).
	return options.Gates{}
}

// BindFlags registers the flags on fs, which must already hold the shared runtime flags
// (options.Runtime.BindFlags). Every other controller's --events-addr names where it posts
// its events; notification-controller's names where it listens for them. The shared flag
// is therefore replaced in place by this one: it keeps its name and place in --help, but
// binds o.EventsAddr, so the process's own event recorder never posts to itself.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	own := pflag.NewFlagSet("notification-controller", pflag.ContinueOnError)
	own.StringVar(&o.EventsAddr, "events-addr", ":9090", "The address the event endpoint binds to.")
	if f := fs.Lookup("events-addr"); f != nil {
		*f = *own.Lookup("events-addr")
	} else {
		fs.AddFlag(own.Lookup("events-addr"))
	}
	fs.StringVar(&o.ReceiverAddr, "receiverAddr", ":9292", "The address the webhook receiver endpoint binds to.")
	fs.DurationVar(&o.RateLimitInterval, "rate-limit-interval", 5*time.Minute, "Interval in which rate limit has effect.")
	fs.BoolVar(&o.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.")
}
