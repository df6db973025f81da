package controller

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmanager "sigs.k8s.io/controller-runtime/pkg/manager"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/helm-controller/internal/testchart"
	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/kubelet"
	"gotk.dev/internal/testing/requestlog"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	// directLabel marks HelmReleases the suite's manager does not watch: tests drive them
	// through a reconciler with other controller options (see direct_test.go).
	directLabel = "test.gotk.dev/direct"
	// unavailableAnnotation keeps the stand-in deployment controller away from a
	// Deployment: it never becomes available (health check timeouts).
	unavailableAnnotation = "test.gotk.dev/unavailable"
)

// suite is the environment every test shares: a real API server with a stand-in kubelet
// (hook and test pods finish, Deployments roll out), the manager running the HelmRelease
// reconciler exactly as cmd/main.go wires it (every client of it counting its requests), an
// artifact server standing in for source-controller and an event receiver standing in for
// notification-controller. Set once by TestMain, read-only afterwards.
type suite struct {
	env           *testenv.Env
	managerConfig *rest.Config
	requests      *requestlog.Log
	rt            *manager.Runtime
	storage       *artifact.Storage
	artifacts     *artifact.Cache
	events        *eventsink.Sink
	opts          Options
}

var suiteEnv *suite

func TestMain(m *testing.M) {
	testenv.MainFunc(m, testenv.Options{AddToScheme: []func(*runtime.Scheme) error{sourcev1.AddToScheme, v2.AddToScheme}}, startSuite)
}

// startSuite starts the manager running the HelmRelease reconciler as cmd/main.go wires
// it, the stand-in kubelet, an artifact server and an event sink.
func startSuite(env *testenv.Env, cleanup func(func())) error {
	root, err := os.MkdirTemp("", "helm-controller-test-")
	if err != nil {
		return err
	}
	cleanup(func() { os.RemoveAll(root) })
	kube.UseFieldManager(kube.DefaultFieldManager)
	kctx, stopKubelet := context.WithCancel(context.Background())
	cleanup(stopKubelet)
	kubelet.Start(kctx, env.Client, kubelet.Options{
		Pods:        testchart.HookPhase,
		Deployments: func(d *appsv1.Deployment) bool { return d.Annotations[unavailableAnnotation] == "" },
	})

	sink := eventsink.Start()
	cleanup(sink.Close)

	fs := pflag.NewFlagSet("helm-controller", pflag.ContinueOnError)
	var rtOpts options.Runtime
	var hrOpts Options
	rtOpts.BindFlags(fs, 4)
	hrOpts.BindFlags(fs)
	if err := fs.Parse([]string{
		"--metrics-addr=0", "--health-addr=0", "--log-level=error",
		"--events-addr=" + sink.URL,
		"--concurrent=8",
		"--min-retry-delay=200ms", "--max-retry-delay=2s",
		// Long on purpose: tests prove dependants are woken by watches, not by this timer.
		"--requeue-dependency=30s",
		"--watch-label-selector=!" + directLabel,
	}); err != nil {
		return err
	}
	if err := hrOpts.Validate(&rtOpts); err != nil {
		return err
	}
	configs, err := ConfigSelector(hrOpts)
	if err != nil {
		return err
	}
	reqs := &requestlog.Log{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = reqs.Wrap
	rt, err := manager.New(manager.Setup{
		Name:           "helm-controller",
		Scheme:         env.Scheme,
		Options:        &rtOpts,
		FeatureGates:   FeatureGates(),
		Watched:        []client.Object{&v2.HelmRelease{}},
		RESTConfig:     cfg,
		CacheTransform: manager.HealthCacheTransform(),
		WatchConfigs:   configs,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	storage, err := artifact.NewStorage(artifact.StorageOptions{BasePath: filepath.Join(root, "storage"), Hostname: ln.Addr().String()})
	if err != nil {
		return err
	}
	if err := rt.Manager.Add(crmanager.RunnableFunc(func(ctx context.Context) error {
		return storage.ServeListener(ctx, ln)
	})); err != nil {
		return err
	}
	cache, err := artifact.NewCache(filepath.Join(root, "artifacts"), &artifact.Fetcher{
		Retries: 2, RetryWaitMin: 50 * time.Millisecond, RetryWaitMax: 200 * time.Millisecond,
		Client: &http.Client{Timeout: time.Minute},
	}, 64)
	if err != nil {
		return err
	}
	r, err := NewHelmReleaseReconciler(rt, Config{Options: hrOpts, Artifacts: cache})
	if err != nil {
		return err
	}
	if err := r.SetupWithManager(rt); err != nil {
		return err
	}
	testenv.RunManager(rt.Manager, cleanup)
	suiteEnv = &suite{env: env, managerConfig: cfg, requests: reqs, rt: rt, storage: storage,
		artifacts: cache, events: sink, opts: hrOpts}
	return nil
}
