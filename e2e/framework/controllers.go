package framework

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ControllerSpec says how to run one controller as a process: the Go package `go build`
// compiles and the arguments its install manifest gives it.
type ControllerSpec struct {
	// Name is the controller's name, also its Deployment's name.
	Name string
	// Package is the main package relative to the repository root.
	Package string
	// Storage marks controllers that keep state under --storage-path (source-controller's
	// artifacts, image-reflector-controller's tag database).
	Storage bool
	// ServesArtifacts marks source-controller: it serves its storage over HTTP at
	// --storage-addr, advertised as --storage-adv-addr.
	ServesArtifacts bool
	// ReceivesEvents marks notification-controller: its --events-addr is the address it
	// listens on for events, and the other controllers post events to it.
	ReceivesEvents bool
	// Kinds are the Flux kinds the controller reconciles (kind names are unique across the
	// Flux API groups), so a wait that times out can show the right log.
	Kinds []string
	// Extra marks the controllers a default install leaves out (the image automation
	// controllers, installed with `flux install --components-extra`).
	Extra bool

	// ldflags are passed to `go build -ldflags` (the flux CLI's version, see FluxVersion).
	ldflags string
}

// manifestArgs are the arguments every controller Deployment in the install manifests
// passes (manifests/bases/<name>/deployment.yaml, mirroring upstream Flux's
// manifests/bases/<name>/deployment.yaml), before the addresses and paths a process on
// this machine needs.
//
// One deliberate deviation: the manifests say --enable-leader-election; the e2e processes
// run a single replica each and get --enable-leader-election=false, so a restart does not
// wait up to a lease duration for the previous holder's lease (and benchmark numbers carry
// no lease latency). RecordedDeviations lists this for reports.
var manifestArgs = []string{
	"--watch-all-namespaces=true",
	"--log-level=info",
	"--log-encoding=json",
	"--enable-leader-election=false",
}

// RecordedDeviations are the ways the e2e processes differ from the install manifests,
// for benchmark reports and failure messages.
func RecordedDeviations() []string {
	return []string{
		"--enable-leader-election=false instead of --enable-leader-election (one replica; no lease latency on start/restart)",
		"--events-addr is empty unless notification-controller runs (the manifests point it at notification-controller's Service)",
		"addresses are 127.0.0.1:<free port> instead of :8080/:9440/:9090, --kubeconfig points at the local cluster",
	}
}

// controllerSpecs is the table of controllers this framework knows. It is a function, not a
// package variable, so nobody can mutate it.
func controllerSpecs() []ControllerSpec {
	return []ControllerSpec{
		{Name: "source-controller", Package: "./source-controller/cmd", Storage: true, ServesArtifacts: true,
			Kinds: []string{"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket"}},
		{Name: "kustomize-controller", Package: "./kustomize-controller/cmd", Kinds: []string{"Kustomization"}},
		{Name: "helm-controller", Package: "./helm-controller/cmd", Kinds: []string{"HelmRelease"}},
		{Name: "notification-controller", Package: "./notification-controller/cmd", ReceivesEvents: true,
			Kinds: []string{"Alert", "Provider", "Receiver"}},
		{Name: "image-reflector-controller", Package: "./image-reflector-controller/cmd", Storage: true, Extra: true,
			Kinds: []string{"ImageRepository", "ImagePolicy"}},
		{Name: "image-automation-controller", Package: "./image-automation-controller/cmd", Extra: true,
			Kinds: []string{"ImageUpdateAutomation"}},
	}
}

// KnownControllers lists the controller names the framework can run.
func KnownControllers() []string {
	var names []string
	for _, s := range controllerSpecs() {
		names = append(names, s.Name)
	}
	return names
}

// ExtraControllers lists the controllers installed only with `flux install
// --components-extra`.
func ExtraControllers() []string {
	var names []string
	for _, s := range controllerSpecs() {
		if s.Extra {
			names = append(names, s.Name)
		}
	}
	return names
}

// LookupController returns the spec of the controller called name.
func LookupController(name string) (ControllerSpec, error) {
	for _, s := range controllerSpecs() {
		if s.Name == name {
			return s, nil
		}
	}
	known := KnownControllers()
	sort.Strings(known)
	return ControllerSpec{}, fmt.Errorf("unknown controller %q: known controllers are %s", name, strings.Join(known, ", "))
}

// ControllerFor names the controller that reconciles kind ("" when none does).
func ControllerFor(kind string) string {
	for _, s := range controllerSpecs() {
		if slices.Contains(s.Kinds, kind) {
			return s.Name
		}
	}
	return ""
}

// processAddrs are the loopback addresses one controller process binds.
type processAddrs struct {
	Metrics, Health string
	// Storage is source-controller's artifact server address.
	Storage string
	// Events is notification-controller's event receiver; Receiver its webhook receiver.
	Events, Receiver string
}

// argsFor builds the manifest-equivalent command line of spec for a process on this
// machine: manifestArgs, the addresses, paths and kubeconfig, then extra (user arguments
// come last so they override: pflag keeps the last value of a repeated flag).
//
// eventsURL is notification-controller's event endpoint, empty when it does not run. An
// empty kubeconfig passes no --kubeconfig (a peer implementation without the flag reads
// $KUBECONFIG).
func argsFor(spec ControllerSpec, addrs processAddrs, kubeconfig, storagePath, eventsURL string, extra []string) []string {
	args := append([]string{}, manifestArgs...)
	if spec.ReceivesEvents {
		args = append(args, "--events-addr="+addrs.Events, "--receiverAddr="+addrs.Receiver)
	} else {
		args = append(args, "--events-addr="+eventsURL)
	}
	args = append(args,
		"--metrics-addr="+addrs.Metrics,
		"--health-addr="+addrs.Health,
	)
	if kubeconfig != "" {
		args = append(args, "--kubeconfig="+kubeconfig)
	}
	if spec.Storage {
		args = append(args, "--storage-path="+storagePath)
	}
	if spec.ServesArtifacts {
		args = append(args, "--storage-addr="+addrs.Storage, "--storage-adv-addr="+addrs.Storage)
	}
	return append(args, extra...)
}

// envName is the environment variable infix of a controller: source-controller ->
// SOURCE_CONTROLLER (GOTK_E2E_SOURCE_CONTROLLER_BIN).
func envName(controller string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(controller))
}

// LocalAddrs are the loopback addresses of a controller process started outside a test
// (make dev-up).
type LocalAddrs struct {
	Metrics, Health, Storage string
	// Events and Receiver are notification-controller's event and webhook receiver
	// addresses; EventsURL is where the other controllers post events ("" posts none).
	Events, Receiver, EventsURL string
}

// LocalControllerArgs is the manifest-equivalent command line of controller name for a
// long-running local process, the same arguments the e2e suite gives it.
func LocalControllerArgs(name string, addrs LocalAddrs, kubeconfig, storagePath string, extra []string) ([]string, error) {
	spec, err := LookupController(name)
	if err != nil {
		return nil, err
	}
	pa := processAddrs{Metrics: addrs.Metrics, Health: addrs.Health, Storage: addrs.Storage, Events: addrs.Events, Receiver: addrs.Receiver}
	return argsFor(spec, pa, kubeconfig, storagePath, addrs.EventsURL, extra), nil
}
