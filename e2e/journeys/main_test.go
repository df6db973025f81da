// Package journeys_test holds the end-to-end journeys: what a Flux user does with a cluster,
// run against a local control plane with every controller (source-, kustomize-, helm-,
// notification- and the image controllers) as processes, a real Git server (HTTP and SSH)
// and a real OCI registry (see e2e/framework).
//
// notification-controller runs too, so every controller posts its events to it as in a
// cluster, and the webhook journey drives its Receivers and Providers.
//
// All journeys share one environment, owned by TestMain and started by the first journey
// that runs (so `go test -run` matching none costs no cluster). Journeys that disturb the
// shared peers (the Git server outage, the kustomize-controller crashes) run first, one at a
// time; the others then run in parallel, each in its own namespace with its own Git or OCI
// repository.
//
// The multi-tenancy and central alerting journeys also use a second cluster, "production"
// (lockdown_test.go): its own control plane, Git server and registry, with the controllers
// locked down for hard multi-tenancy as upstream's guide does. It starts on first use and is
// bootstrapped once from testdata/platform; the central alerting receiver both clusters
// forward to runs in this process.
//
// When a journey fails, every process log (controllers, sshd, etcd, kube-*, kwok) is copied
// to a directory printed at the end (under $GOTK_E2E_LOGS_DIR, else the system temp dir).
package journeys_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gotk.dev/internal/testing/workspace"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"gotk.dev/e2e/framework"
)

// suite is the environment every journey uses. TestMain sets it before any test runs and
// never reassigns it; its environment starts once, on first use.
var suite *fixture

// fixture is the shared environment and the tools the journeys drive it with.
type fixture struct {
	// env is the environment; set by start.
	env *framework.Env
	// kubectl is the real kubectl binary of the control plane build (bin/kubectl).
	kubectl string

	once     sync.Once
	startErr error
	bins     *framework.Binaries
}

// kustomizeControllerArgs mirror the staging cluster's patch of the controller Deployments
// in flux2-kustomize-helm-example (clusters/staging/flux-system/kustomization.yaml):
// --concurrent=20 and --requeue-dependency=5s. GOTK_E2E_KUSTOMIZE_CONTROLLER_ARGS still
// override them (later flags win).
func kustomizeControllerArgs() []string {
	return []string{"--concurrent=20", "--requeue-dependency=5s"}
}

func TestMain(m *testing.M) {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard()) // the framework's clients would otherwise warn on stderr
	suite = &fixture{bins: framework.NewBinaries("")}
	code := m.Run()
	if err := suite.stop(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, "journeys:", err)
	}
	if central != nil {
		central.Close()
	}
	if productionPlatform.charts != nil {
		productionPlatform.charts.Close()
	}
	if err := production.stop(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, "journeys: production cluster:", err)
	}
	_ = suite.bins.Remove()
	os.Exit(code)
}

// start brings the environment up on first call; later calls return the first outcome.
func (f *fixture) start() error {
	f.once.Do(func() { f.startErr = f.startOnce() })
	return f.startErr
}

func (f *fixture) startOnce() error {
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		return err
	}
	// The image controllers are extra components (flux install --components-extra); the
	// image automation journey needs them, the webhook journey notification-controller.
	opts = opts.WithControllers("source-controller", "kustomize-controller", "helm-controller", "notification-controller",
		"image-reflector-controller", "image-automation-controller")
	for i, c := range opts.Controllers {
		if c.Name == "kustomize-controller" {
			opts.Controllers[i].Args = append(kustomizeControllerArgs(), c.Args...)
		}
	}
	opts.Binaries = f.bins
	opts.Logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
	f.kubectl = filepath.Join(workspace.BinDir(), "kubectl")
	if _, err := os.Stat(f.kubectl); err != nil {
		return fmt.Errorf("%w (run `make testbin`, or set KUBEBUILDER_ASSETS to the directory holding the control plane and kubectl)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	begin := time.Now()
	if f.env, err = framework.Start(ctx, opts); err != nil {
		return fmt.Errorf("start the environment: %w", err)
	}
	fmt.Fprintf(os.Stderr, "journeys: environment up in %s\n", time.Since(begin).Round(time.Millisecond))
	return nil
}

// stop stops the environment if it started. After a failure every process log is kept first
// (the way framework.Setup does for a single test) and the directory is printed.
func (f *fixture) stop(failed bool) error {
	if f.env == nil {
		return nil
	}
	if failed {
		logs, err := f.env.StopFailed()
		fmt.Fprintf(os.Stderr, "journeys: logs of every process kept in %s\n", logs)
		return err
	}
	return f.env.Stop()
}
