package journeys_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"gotk.dev/e2e/framework"
)

// production is the second standalone cluster of the journeys: the platform team's
// production cluster, run the way upstream's multi-tenancy guide (fluxcd/flux2-multi-tenancy,
// clusters/production/flux-system/kustomization.yaml) locks Flux down for hard tenancy. It
// has its own control plane, Git server and registry, so its lockdown flags do not change
// what the other journeys see, and it is a second cluster for the central alerting journey.
// It starts on first use (only the journeys that need it pay for it) and TestMain stops it.
var production = &lockedDownCluster{}

// lockedDownCluster is a second Env with the lockdown flags.
type lockedDownCluster struct {
	once sync.Once
	env  *framework.Env
	err  error
}

// productionControllers are the controllers the production cluster runs: a default install
// (the image automation controllers are extras the tenancy journeys do not use).
var productionControllers = []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"}

// lockdownArgs are upstream's multi-tenancy lockdown patches of the controller Deployments:
// --no-cross-namespace-refs=true on every controller that follows references between
// objects (all but source-controller, which has no such flag), --no-remote-bases=true on
// kustomize-controller, and --default-service-account=default on kustomize-controller and
// helm-controller (an object that names no service account runs as its namespace's
// `default` account, never as the controller).
func lockdownArgs(controller string) []string {
	if controller == "source-controller" {
		return nil
	}
	args := []string{"--no-cross-namespace-refs=true"}
	switch controller {
	case "kustomize-controller":
		args = append(args, kustomizeControllerArgs()...)
		args = append(args, "--no-remote-bases=true", "--default-service-account=default")
	case "helm-controller":
		args = append(args, "--default-service-account=default")
	}
	return args
}

// get starts the production cluster on first call and returns it; later calls return the
// first outcome.
func (c *lockedDownCluster) get(t *testing.T) *framework.Env {
	t.Helper()
	c.once.Do(func() { c.env, c.err = startProduction() })
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.env
}

func startProduction() (*framework.Env, error) {
	opts := framework.Options{Binaries: suite.bins}
	for _, name := range productionControllers {
		// GOTK_E2E_<NAME>_BIN and _ARGS apply here too; the lockdown flags come first so a
		// user's arguments still win.
		co := framework.ControllerFromEnv(name, nil)
		co.Args = append(lockdownArgs(name), co.Args...)
		opts.Controllers = append(opts.Controllers, co)
	}
	opts.Logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s production: "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	begin := time.Now()
	env, err := framework.Start(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("start the production cluster: %w", err)
	}
	fmt.Fprintf(os.Stderr, "journeys: production cluster up in %s\n", time.Since(begin).Round(time.Millisecond))
	return env, nil
}

// stop stops the production cluster if it started, keeping every log after a failure.
func (c *lockedDownCluster) stop(failed bool) error {
	if c.env == nil {
		return nil
	}
	if failed {
		logs, err := c.env.StopFailed()
		fmt.Fprintf(os.Stderr, "journeys: logs of the production cluster kept in %s\n", logs)
		return err
	}
	return c.env.Stop()
}

// fluxCLI runs the flux command line (built from this repository, or $GOTK_E2E_FLUX_BIN)
// and returns its standard output; a failure fails the test with the output.
func fluxCLI(t *testing.T, ctx context.Context, env *framework.Env, args ...string) string {
	t.Helper()
	bin := os.Getenv("GOTK_E2E_FLUX_BIN")
	if bin == "" {
		var err error
		if bin, err = suite.bins.Flux(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", env.Cluster.Kubeconfig}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("flux %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
