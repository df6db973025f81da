package controller

import (
	"os"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	reflectorv1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/auth/gitprovider"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// directLabel marks automations the suite's manager does not watch: tests drive them through
// a reconciler with other options (--no-cross-namespace-refs).
const directLabel = "test.gotk.dev/direct"

// suite is what every test shares: a real API server and the manager running the reconciler
// as cmd/main.go wires it (the Git feature gates at upstream's defaults), with an event
// receiver standing in for notification-controller. No source- or image-reflector-controller
// runs: tests write the GitRepository objects and the ImagePolicy statuses those would.
type suite struct {
	env    *testenv.Env
	rt     *manager.Runtime
	events *eventsink.Sink
	root   string
}

var suiteEnv *suite

func TestMain(m *testing.M) {
	// CodeCommit's host name reaches its local front.
	cloudapi.InstallHostRouter()
	testenv.MainFunc(m, testenv.Options{AddToScheme: []func(*runtime.Scheme) error{imagev1.AddToScheme, reflectorv1.AddToScheme, sourcev1.AddToScheme}}, startSuite)
}

func startSuite(env *testenv.Env, cleanup func(func())) error {
	root, err := os.MkdirTemp("", "image-automation-controller-test-")
	if err != nil {
		return err
	}
	cleanup(func() { os.RemoveAll(root) })
	sink := eventsink.Start()
	cleanup(sink.Close)

	var opts options.Runtime
	fs := pflag.NewFlagSet("image-automation-controller", pflag.ContinueOnError)
	opts.BindFlags(fs, 4)
	if err := fs.Parse([]string{
		"--metrics-addr=0", "--health-addr=0", "--log-level=error",
		"--events-addr=" + sink.URL,
		"--min-retry-delay=200ms", "--max-retry-delay=2s", "--requeue-dependency=1s",
		"--watch-label-selector=!" + directLabel,
	}); err != nil {
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name: "image-automation-controller", Scheme: env.Scheme, Options: &opts, RESTConfig: env.Config,
		Watched: []client.Object{&imagev1.ImageUpdateAutomation{}},
	})
	if err != nil {
		return err
	}
	tokens := auth.NewTokenCache(auth.CacheOptions{MaxSize: 100, MaxDuration: time.Hour})
	r, err := NewImageUpdateAutomationReconciler(rt, Config{
		Options: Options{ForcePushBranch: true, ShallowClone: true},
		Git:     git.NewClient(git.ClientOptions{}),
		WorkDir: root,
		// As cmd/main.go wires it (ObjectLevelWorkloadIdentity off), with the cloud
		// identity calls trusting the test clouds' CA.
		Providers: &gitprovider.Resolver{Tokens: tokens, Logins: &cloud.Logins{Cache: tokens, HTTPClient: cloudapi.HTTPClient(),
			AzureDisableInstanceDiscovery: true, Kube: rt.Manager.GetClient()}},
	})
	if err != nil {
		return err
	}
	if err := r.SetupWithManager(rt); err != nil {
		return err
	}
	testenv.RunManager(rt.Manager, cleanup)
	suiteEnv = &suite{env: env, rt: rt, events: sink, root: root}
	return nil
}
