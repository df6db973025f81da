package controller

import (
	"context"
	"testing"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/testenv"
	apiv1 "gotk.dev/notification-controller/api/v1"
	"gotk.dev/notification-controller/api/v1beta3"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
)

// suite is the environment every test shares: a real API server and a manager running
// notification-controller exactly as cmd/main.go sets it up, with --no-cross-namespace-refs
// (the multi-tenant setting), and the real event recorder of pkg/events posting to its event
// server the way every other controller does. Set once by TestMain, read-only afterwards.
type suite struct {
	env *testenv.Env
	rt  *manager.Runtime
	nc  *Controller
	// recorder posts events as kustomize-controller would, to the event server.
	recorder *events.Recorder
}

var suiteEnv *suite

func TestMain(m *testing.M) {
	testenv.MainFunc(m, testenv.Options{AddToScheme: []func(*runtime.Scheme) error{apiv1.AddToScheme, v1beta3.AddToScheme}}, startSuite)
}

// startSuite parses the flags cmd/main.go parses, sets notification-controller up on a
// manager and starts it, and starts an event recorder posting to it.
func startSuite(env *testenv.Env, cleanup func(func())) error {
	fs := pflag.NewFlagSet("notification-controller", pflag.ContinueOnError)
	var rtOpts options.Runtime
	var ncOpts Options
	rtOpts.BindFlags(fs, 4)
	ncOpts.BindFlags(fs)
	if err := fs.Parse([]string{
		"--metrics-addr=0", "--health-addr=0", "--log-level=error",
		"--events-addr=127.0.0.1:0", "--receiverAddr=127.0.0.1:0",
		"--no-cross-namespace-refs=true",
		"--min-retry-delay=200ms", "--max-retry-delay=2s",
	}); err != nil {
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name:         "notification-controller",
		Scheme:       env.Scheme,
		Options:      &rtOpts,
		FeatureGates: FeatureGates(),
		Watched:      []client.Object{&apiv1.Receiver{}, &v1beta3.Alert{}, &v1beta3.Provider{}},
		RESTConfig:   env.Config,
	})
	if err != nil {
		return err
	}
	nc, err := Setup(rt, ncOpts)
	if err != nil {
		return err
	}
	testenv.RunManager(rt.Manager, cleanup)
	rec, err := events.NewRecorder(env.Config, events.Options{
		Controller: "kustomize-controller",
		EventsAddr: "http://" + nc.Events.Addr() + "/",
		Scheme:     env.Scheme,
		Log:        logr.Discard(),
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	recDone := make(chan struct{})
	go func() { _ = rec.Start(ctx); close(recDone) }()
	cleanup(func() { cancel(); <-recDone })
	suiteEnv = &suite{env: env, rt: rt, nc: nc, recorder: rec}
	return nil
}
