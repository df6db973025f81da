package controller

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/tagstore"
	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/logcapture"
	"gotk.dev/internal/testing/registry"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
)

// suite is what every test shares: a real API server, the manager running both reconcilers
// as cmd/main.go wires them, the tag database they write, an event receiver standing in for
// notification-controller and a distribution registry. Set once by TestMain.
type suite struct {
	env    *testenv.Env
	store  *tagstore.Store
	events *eventsink.Sink
	reg    *registry.Registry
	rt     *manager.Runtime
	// logs is everything the controllers log, at trace level: the credential tests check it.
	logs *logcapture.Buffer
}

var suiteEnv *suite

func TestMain(m *testing.M) {
	// Cloud registry host names (ECR, ACR, Artifact Registry) reach local fronts.
	cloudapi.InstallHostRouter()
	testenv.MainFunc(m, testenv.Options{AddToScheme: []func(*runtime.Scheme) error{imagev1.AddToScheme}}, startSuite)
}

func startSuite(env *testenv.Env, cleanup func(func())) error {
	root, err := os.MkdirTemp("", "image-reflector-controller-test-")
	if err != nil {
		return err
	}
	cleanup(func() { os.RemoveAll(root) })
	reg, err := registry.Start(registry.Options{})
	if err != nil {
		return err
	}
	cleanup(func() { _ = reg.Close() })
	sink := eventsink.Start()
	cleanup(sink.Close)

	var f flags
	fs := pflag.NewFlagSet("image-reflector-controller", pflag.ContinueOnError)
	f.runtime.BindFlags(fs, 4)
	if err := fs.Parse([]string{
		"--metrics-addr=0", "--health-addr=0", "--log-level=trace",
		"--events-addr=" + sink.URL,
		"--min-retry-delay=200ms", "--max-retry-delay=2s", "--requeue-dependency=1s",
	}); err != nil {
		return err
	}
	logs := &logcapture.Buffer{}
	rt, err := manager.New(manager.Setup{
		Name: "image-reflector-controller", Scheme: env.Scheme, Options: &f.runtime, RESTConfig: env.Config, LogOutput: logs,
		Watched: []client.Object{&imagev1.ImageRepository{}, &imagev1.ImagePolicy{}},
	})
	if err != nil {
		return err
	}
	store, err := tagstore.Open(filepath.Join(root, "tags.db"), time.Second)
	if err != nil {
		return err
	}
	cleanup(func() { _ = store.Close() })
	cfg := Config{Store: store, UserAgent: "image-reflector-controller-test",
		// The controller's cloud identity: the SDKs' default chains, pointed by each test at
		// the cloudapi servers, trusting their CA.
		// The ObjectLevelWorkloadIdentity gate is on: spec.serviceAccountName names the
		// identity (source-controller's suite covers the gate off).
		CloudLogins: &cloud.Logins{Cache: auth.NewTokenCache(auth.CacheOptions{MaxSize: 100, MaxDuration: time.Hour}),
			HTTPClient: cloudapi.HTTPClient(), AzureDisableInstanceDiscovery: true,
			ObjectLevel: true, Kube: rt.Manager.GetClient()}}
	repos, err := NewImageRepositoryReconciler(rt, cfg)
	if err != nil {
		return err
	}
	policies, err := NewImagePolicyReconciler(rt, cfg)
	if err != nil {
		return err
	}
	if err := errors.Join(repos.SetupWithManager(rt), policies.SetupWithManager(rt)); err != nil {
		return err
	}
	testenv.RunManager(rt.Manager, cleanup)
	suiteEnv = &suite{env: env, store: store, events: sink, reg: reg, rt: rt, logs: logs}
	return nil
}

// flags mirrors the shared part of cmd/main.go's flags (the cmd package cannot be imported).
type flags struct{ runtime options.Runtime }
