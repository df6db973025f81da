package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"gotk.dev/pkg/options"
)

func parseFlags(t *testing.T, args ...string) (*options.Runtime, *Options, *pflag.FlagSet) {
	t.Helper()
	fs := pflag.NewFlagSet("notification-controller", pflag.ContinueOnError)
	var rt options.Runtime
	var o Options
	rt.BindFlags(fs, 4)
	o.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &rt, &o, fs
}

func TestFlagsMatchUpstream(t *testing.T) {
	rt, o, fs := parseFlags(t)
	if o.EventsAddr != ":9090" || o.ReceiverAddr != ":9292" || o.RateLimitInterval != 5*time.Minute || o.NoCrossNamespaceRefs {
		t.Errorf("defaults = %+v", *o)
	}
	if rt.Concurrent != 4 {
		t.Errorf("--concurrent default = %d, want upstream's 4", rt.Concurrent)
	}
	if u := fs.Lookup("events-addr").Usage; !strings.Contains(u, "binds to") {
		t.Errorf("--events-addr usage %q still describes where events are posted", u)
	}

	rt, o, _ = parseFlags(t, "--events-addr=127.0.0.1:19090", "--receiverAddr=127.0.0.1:19292",
		"--rate-limit-interval=30s", "--no-cross-namespace-refs", "--feature-gates=CacheSecretsAndConfigMaps=true")
	if o.EventsAddr != "127.0.0.1:19090" || o.ReceiverAddr != "127.0.0.1:19292" || o.RateLimitInterval != 30*time.Second || !o.NoCrossNamespaceRefs {
		t.Errorf("parsed = %+v", *o)
	}
	// The process's own event recorder must not post to the address it listens on.
	if rt.EventsAddr != "" {
		t.Errorf("the shared --events-addr was set to %q: the controller would post events to itself", rt.EventsAddr)
	}
	if err := rt.Validate(options.CommonGates().With(FeatureGates()).Defaults()); err != nil {
		t.Errorf("upstream's feature gate refused: %v", err)
	}
	rt, _, _ = parseFlags(t, "--feature-gates=NoSuchGate=true")
	if err := rt.Validate(options.CommonGates().With(FeatureGates()).Defaults()); err == nil {
		t.Error("an unknown feature gate was accepted")
	}
}
