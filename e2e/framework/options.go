package framework

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables that configure an Env (see OptionsFromEnv).
const (
	// EnvControllers is a comma-separated list of the controllers to run, e.g.
	// "source-controller,kustomize-controller". Empty or "none" runs none.
	EnvControllers = "GOTK_E2E_CONTROLLERS"
	// EnvKeep keeps the whole state directory after Stop (any value strconv.ParseBool
	// accepts as true).
	EnvKeep = "GOTK_E2E_KEEP"
	// EnvLogsDir is where logs of failed tests are copied (default: a new directory under
	// the system temp dir).
	EnvLogsDir = "GOTK_E2E_LOGS_DIR"
)

// DefaultControllers is what runs when GOTK_E2E_CONTROLLERS is unset.
const DefaultControllers = "source-controller,kustomize-controller"

// ControllerOptions selects one controller process.
type ControllerOptions struct {
	// Name is a known controller name (see KnownControllers); it selects the manifest
	// arguments.
	Name string
	// Bin is the executable. Empty builds this repository's controller with `go build`.
	// Point it at another build (e.g. upstream Flux's) to run the same suite against it.
	Bin string
	// Peer marks Bin as another implementation of the controller (upstream Flux's build):
	// it gets only the flags upstream's Deployment passes. Upstream has no --kubeconfig
	// flag (its Pod runs in the cluster), so the process finds the cluster through
	// $KUBECONFIG, which every controller process gets.
	Peer bool
	// Args are appended after the manifest-equivalent arguments (later flags win).
	Args []string
	// Shard, when set, runs this entry as a shard instance of the controller, named
	// <Name>-<Shard> (its Env.Controllers key, log and state directory), with
	// --watch-label-selector=sharding.fluxcd.io/key=<Shard> before Args, as `flux install
	// --shards` renders it. Several entries may share a Name with different shards.
	Shard string
}

// ShardKeyLabel assigns a Flux object to a shard instance.
const ShardKeyLabel = "sharding.fluxcd.io/key"

// Instance is the process name of c: the controller's name, suffixed with its shard.
func (c ControllerOptions) Instance() string {
	if c.Shard == "" {
		return c.Name
	}
	return c.Name + "-" + c.Shard
}

// Options configures an Env. The zero value runs no controllers; OptionsFromEnv fills the
// controller set from the environment.
type Options struct {
	// Dir holds all state (cluster, repositories, storage, logs). Empty means a new
	// temporary directory, removed by Stop unless Keep.
	Dir string
	// Keep leaves Dir in place after Stop.
	Keep bool
	// BinDir holds the control plane and registry binaries; empty means
	// workspace.BinDir() ($KUBEBUILDER_ASSETS, else bin/).
	BinDir string
	// Nodes is the number of kwok nodes (at least 1; default 1).
	Nodes int
	// Controllers are started in this order (notification-controller first when present,
	// so the others can post events to it).
	Controllers []ControllerOptions
	// Namespaces are created after the cluster starts; flux-system always is.
	Namespaces []string
	// Binaries builds controllers without Bin. Nil means a per-Env build directory.
	Binaries *Binaries
	// SampleInterval is how often each controller's RSS and CPU time are sampled
	// (default 500ms).
	SampleInterval time.Duration
	// ReadyTimeout bounds the wait for a controller's /readyz (default 60s).
	ReadyTimeout time.Duration
	// APIServerArgs are extra kube-apiserver flags.
	APIServerArgs []string
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// OptionsFromEnv reads the controller set and per-controller settings from the environment:
//
//	GOTK_E2E_CONTROLLERS=source-controller,kustomize-controller
//	GOTK_E2E_<NAME>_BIN=/path/to/binary      (NAME: SOURCE_CONTROLLER, ...)
//	GOTK_E2E_<NAME>_ARGS="--concurrent=10 --kube-api-qps=500"  (split on white space)
//	GOTK_E2E_KEEP=1
//
// getenv is os.Getenv in production; tests pass their own.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var o Options
	if v := getenv(EnvKeep); v != "" {
		keep, err := strconv.ParseBool(v)
		if err != nil {
			return o, fmt.Errorf("%s=%q: want a boolean", EnvKeep, v)
		}
		o.Keep = keep
	}
	list, ok := getenv(EnvControllers), true
	if list == "" {
		list, ok = DefaultControllers, false
	}
	names, err := ParseControllerList(list)
	if err != nil {
		if ok {
			return o, fmt.Errorf("%s: %w", EnvControllers, err)
		}
		return o, err
	}
	for _, name := range names {
		o.Controllers = append(o.Controllers, ControllerFromEnv(name, getenv))
	}
	return o, nil
}

// ControllerFromEnv is the options of one controller from GOTK_E2E_<NAME>_BIN and _ARGS.
func ControllerFromEnv(name string, getenv func(string) string) ControllerOptions {
	if getenv == nil {
		getenv = os.Getenv
	}
	prefix := "GOTK_E2E_" + envName(name)
	return ControllerOptions{
		Name: name,
		Bin:  getenv(prefix + "_BIN"),
		Args: strings.Fields(getenv(prefix + "_ARGS")),
	}
}

// ParseControllerList splits "a,b" into known controller names, rejecting unknown names and
// duplicates. "none" is the empty list.
func ParseControllerList(list string) ([]string, error) {
	list = strings.TrimSpace(list)
	if list == "" || list == "none" {
		return nil, nil
	}
	seen := map[string]bool{}
	var names []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, err := LookupController(n); err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("controller %q listed twice", n)
		}
		seen[n] = true
		names = append(names, n)
	}
	return names, nil
}

// Controller returns the options of the named controller and whether it is selected.
func (o Options) Controller(name string) (ControllerOptions, bool) {
	for _, c := range o.Controllers {
		if c.Name == name {
			return c, true
		}
	}
	return ControllerOptions{}, false
}

// WithControllers returns a copy running only the named controllers, keeping the Bin and
// Args already configured for them.
func (o Options) WithControllers(names ...string) Options {
	var out []ControllerOptions
	for _, n := range names {
		c, ok := o.Controller(n)
		if !ok {
			c = ControllerOptions{Name: n}
		}
		out = append(out, c)
	}
	o.Controllers = out
	return o
}
