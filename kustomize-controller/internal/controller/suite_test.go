package controller

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmanager "sigs.k8s.io/controller-runtime/pkg/manager"

	"gotk.dev/internal/testing/azurekvapi"
	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/logcapture"
	"gotk.dev/internal/testing/requestlog"
	"gotk.dev/internal/testing/testenv"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/kustomize"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// directLabel marks Kustomizations the suite's manager does not watch: tests drive them
// through a reconciler with other controller options (see direct_test.go).
const directLabel = "test.gotk.dev/direct"

// suite is the environment every test shares: a real API server, the manager running the
// Kustomization reconciler exactly as cmd/main.go wires it (every client of it counting its
// requests), an artifact server standing in for source-controller and an event receiver
// standing in for notification-controller. Set once by TestMain, read-only afterwards.
type suite struct {
	env *testenv.Env
	// managerConfig is the manager's REST config; its transport records every request.
	managerConfig *rest.Config
	requests      *requestlog.Log
	rt            *manager.Runtime
	storage       *artifact.Storage
	artifacts     *artifact.Cache
	builder       *kustomize.Builder
	events        *eventsink.Sink
	root          string
	// logs is everything the controller logs, at trace level: the decryption tests check it.
	logs *logcapture.Buffer
}

var suiteEnv *suite

func TestMain(m *testing.M) {
	testenv.MainFunc(m, testenv.Options{AddToScheme: []func(*runtime.Scheme) error{sourcev1.AddToScheme, kustomizev1.AddToScheme}}, startSuite)
}

// startSuite starts the manager running the Kustomization reconciler as cmd/main.go wires
// it, an artifact server and an event sink.
func startSuite(env *testenv.Env, cleanup func(func())) error {
	root, err := os.MkdirTemp("", "kustomize-controller-test-")
	if err != nil {
		return err
	}
	cleanup(func() { os.RemoveAll(root) })
	// The Azure Key Vault test server speaks TLS only; Go reads SSL_CERT_FILE when a TLS
	// client first needs the system roots, so this comes before any reconcile.
	if err := azurekvapi.TrustCA(root); err != nil {
		return err
	}
	if err := installWidgetCRD(env.Client); err != nil {
		return err
	}

	sink := eventsink.Start()
	cleanup(sink.Close)

	fs := pflag.NewFlagSet("kustomize-controller", pflag.ContinueOnError)
	var opts options.Runtime
	opts.BindFlags(fs, 4)
	if err := fs.Parse([]string{
		"--metrics-addr=0", "--health-addr=0", "--log-level=trace",
		"--events-addr=" + sink.URL,
		"--concurrent=8",
		"--min-retry-delay=200ms", "--max-retry-delay=2s",
		// Long on purpose: tests prove dependants are woken by watches, not by this timer.
		"--requeue-dependency=30s",
		"--watch-label-selector=!" + directLabel,
	}); err != nil {
		return err
	}
	if err := opts.Validate(nil); err != nil {
		return err
	}
	reqs := &requestlog.Log{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = reqs.Wrap
	ksOpts := Options{StrictSubstitutions: true, WatchConfigsSelector: "reconcile.fluxcd.io/watch=Enabled"}
	configs, err := ksOpts.ConfigSelector()
	if err != nil {
		return err
	}
	logs := &logcapture.Buffer{}
	rt, err := manager.New(manager.Setup{
		LogOutput:      logs,
		WatchConfigs:   configs,
		Name:           "kustomize-controller",
		Scheme:         env.Scheme,
		Options:        &opts,
		Watched:        []client.Object{&kustomizev1.Kustomization{}},
		RESTConfig:     cfg,
		CacheTransform: manager.HealthCacheTransform(),
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
	builder := kustomize.NewBuilder(256)
	// Strict substitutions (StrictPostBuildSubstitutions=true): the substitution tests check
	// that an unset variable fails the build; TestSubstituteNotStrict covers the default.
	r, err := NewKustomizationReconciler(rt, Config{Options: ksOpts, Artifacts: cache, Builder: builder})
	if err != nil {
		return err
	}
	if err := r.SetupWithManager(rt); err != nil {
		return err
	}

	testenv.RunManager(rt.Manager, cleanup)
	suiteEnv = &suite{logs: logs, env: env, managerConfig: cfg, requests: reqs, rt: rt, storage: storage,
		artifacts: cache, builder: builder, events: sink, root: root}
	return nil
}

// installWidgetCRD installs test.gotk.dev Widgets: a namespaced custom kind with a status
// subresource, whose status tests write to drive health checks.
func installWidgetCRD(c client.Client) error {
	preserve := true
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.test.gotk.dev"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "test.gotk.dev",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec":   {Type: "object", XPreserveUnknownFields: &preserve},
						"status": {Type: "object", XPreserveUnknownFields: &preserve},
					},
				}},
			}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Create(ctx, crd); err != nil {
		return err
	}
	for ctx.Err() == nil {
		var got apiextensionsv1.CustomResourceDefinition
		if err := c.Get(ctx, client.ObjectKeyFromObject(crd), &got); err == nil {
			for _, cond := range got.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("CRD %s not established", crd.Name)
}
