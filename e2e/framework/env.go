package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gotk.dev/internal/testing/ports"
	"gotk.dev/internal/testing/workspace"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/apis"
	"gotk.dev/e2e/cluster"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/registry"
)

// RuntimeNamespace is the namespace the controllers believe they run in ($RUNTIME_NAMESPACE).
const RuntimeNamespace = "flux-system"

// Env is a local cluster with a Git server, an OCI registry and Flux controllers running as
// processes, everything on 127.0.0.1 and under one directory. Start it with Start (or Setup
// in tests) and always Stop it.
type Env struct {
	// Dir holds all state: cluster/, git/, controllers/<name>/, logs/, bin/.
	Dir string
	// Root is the repository root (the directory holding go.work).
	Root string
	// Cluster is the control plane.
	Cluster *cluster.Cluster
	// Config is an admin (system:masters) REST config without client-side rate limit,
	// whose requests are counted (see ClientRequests).
	Config *rest.Config
	// Scheme knows the built-in kinds and every Flux kind.
	Scheme *runtime.Scheme
	// Client is an uncached controller-runtime client.
	Client client.Client
	// Clientset is a client-go clientset.
	Clientset kubernetes.Interface
	// Git serves the repositories under Dir/git over smart HTTP (git http-backend).
	Git *gitserver.Server
	// GitSSH serves the same repositories over SSH (OpenSSH sshd).
	GitSSH *gitserver.SSHServer
	// Registry is a distribution registry (plain HTTP).
	Registry *registry.Registry
	// Controllers are the running controllers by name.
	Controllers map[string]*Process

	opts     Options
	requests *requestCounter
	ownDir   bool // Dir was created by Start
	// savingLogs is set by StopFailed, which keeps Dir until the logs are copied.
	savingLogs bool
	stopOnce   sync.Once
	stopErr    error
	// freePort picks the controllers' listen ports (ports.Free; a test hands out a taken one).
	freePort func() (int, error)
}

// Start brings up everything Options asks for and returns when the cluster is usable, the
// CRDs are Established and every controller answers /readyz. On error whatever started is
// stopped and the logs are kept (the error says where).
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	if opts.Nodes < 1 {
		opts.Nodes = 1
	}
	if opts.SampleInterval <= 0 {
		opts.SampleInterval = 500 * time.Millisecond
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.BinDir == "" {
		opts.BinDir = workspace.BinDir()
	}
	e := &Env{opts: opts, Dir: opts.Dir, Controllers: map[string]*Process{}, freePort: ports.Free}
	if e.Root, err = workspace.Root(); err != nil {
		return nil, err
	}
	if e.Dir == "" {
		if e.Dir, err = os.MkdirTemp("", "gotk-e2e-"); err != nil {
			return nil, err
		}
		e.ownDir = true
	}
	if err := os.MkdirAll(e.logDir(), 0o755); err != nil {
		return nil, err
	}
	defer func() {
		var be *BuildError
		if errors.As(err, &be) {
			_ = e.Stop() // the code does not compile: no process log can help
		} else if err != nil {
			if logs, saveErr := e.StopFailed(); saveErr == nil {
				err = fmt.Errorf("%w\n(logs kept in %s)", err, logs)
			}
		}
	}()

	// The cluster takes the longest; build the controllers and start the peers meanwhile.
	// A controller that does not compile cancels the cluster start.
	var (
		wg      sync.WaitGroup
		bins    map[string]string
		binsErr error
		peerErr error
	)
	clusterCtx, cancelCluster := context.WithCancel(ctx)
	defer cancelCluster()
	wg.Add(2)
	go func() {
		defer wg.Done()
		if bins, binsErr = e.resolveBinaries(ctx); binsErr != nil {
			cancelCluster()
		}
	}()
	go func() { defer wg.Done(); peerErr = e.startPeers() }()
	opts.Logf("e2e: starting the local cluster in %s", e.Dir)
	e.Cluster, err = cluster.Start(clusterCtx, cluster.Options{
		BinDir: opts.BinDir, Dir: filepath.Join(e.Dir, "cluster"), Nodes: opts.Nodes,
		APIServerArgs: opts.APIServerArgs, Logf: opts.Logf,
	})
	wg.Wait()
	if binsErr != nil {
		return nil, binsErr // the cluster error is only the cancellation
	}
	if err = errors.Join(err, peerErr); err != nil {
		return nil, err
	}
	if err := e.connect(); err != nil {
		return nil, err
	}
	if _, err := cluster.InstallCRDs(ctx, e.Cluster.Config, filepath.Join(e.Root, "manifests", "crds")); err != nil {
		return nil, err
	}
	for _, ns := range append([]string{RuntimeNamespace}, opts.Namespaces...) {
		if err := e.CreateNamespace(ctx, ns); err != nil {
			return nil, err
		}
	}
	if err := e.startControllers(ctx, bins); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Env) logDir() string { return filepath.Join(e.Dir, "logs") }

// resolveBinaries maps each selected controller to its executable, building those without
// an explicit Bin.
func (e *Env) resolveBinaries(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	bins := e.opts.Binaries
	for _, c := range e.opts.Controllers {
		if _, ok := out[c.Name]; ok {
			continue // another shard of the same controller
		}
		if c.Bin != "" {
			abs, err := filepath.Abs(c.Bin)
			if err != nil {
				return nil, err
			}
			if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return nil, fmt.Errorf("%s binary %s (GOTK_E2E_%s_BIN) is not an executable file", c.Name, abs, envName(c.Name))
			}
			out[c.Name] = abs
			continue
		}
		if bins == nil {
			bins = NewBinaries(filepath.Join(e.Dir, "bin"))
		}
		e.opts.Logf("e2e: building %s", c.Name)
		path, err := bins.Path(ctx, c.Name)
		if err != nil {
			return nil, err
		}
		out[c.Name] = path
	}
	return out, nil
}

// startPeers starts the Git servers (HTTP and SSH over the same repositories) and the
// registry.
func (e *Env) startPeers() error {
	var err error
	root := filepath.Join(e.Dir, "git")
	if e.Git, err = gitserver.Start(gitserver.Options{Root: root}); err != nil {
		return fmt.Errorf("git http server: %w", err)
	}
	if e.GitSSH, err = gitserver.StartSSH(gitserver.SSHOptions{Root: root}); err != nil {
		return fmt.Errorf("git ssh server: %w", err)
	}
	if e.Registry, err = registry.Start(registry.Options{BinDir: e.opts.BinDir}); err != nil {
		return fmt.Errorf("oci registry: %w", err)
	}
	return nil
}

// connect builds the clients. Client-side rate limiting is off (QPS < 0): the benchmark
// must measure the controllers, not its own throttle.
func (e *Env) connect() error {
	cfg := rest.CopyConfig(e.Cluster.Config)
	cfg.QPS, cfg.Burst = -1, 0
	cfg.UserAgent = "gotk-e2e"
	e.requests = &requestCounter{counts: map[string]int64{}}
	cfg.Wrap(e.requests.wrap)
	e.Config = cfg
	var err error
	if e.Scheme, err = apis.NewScheme(); err != nil {
		return err
	}
	if e.Client, err = client.New(cfg, client.Options{Scheme: e.Scheme}); err != nil {
		return err
	}
	e.Clientset, err = kubernetes.NewForConfig(cfg)
	return err
}

// CreateNamespace creates a namespace; one that exists is fine.
func (e *Env) CreateNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := e.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// startControllers starts notification-controller first and waits for it (its address goes
// into the others' --events-addr), then starts the rest together and waits until all are
// ready.
func (e *Env) startControllers(ctx context.Context, bins map[string]string) error {
	eventsURL := ""
	var launched []launch
	for _, c := range e.opts.Controllers {
		spec, err := LookupController(c.Name)
		if err != nil {
			return err
		}
		if !spec.ReceivesEvents {
			continue
		}
		l := launch{spec: spec, opts: c, bin: bins[c.Name]}
		if err := e.startAndWait(ctx, &l); err != nil {
			return err
		}
		eventsURL = "http://" + l.proc.EventsAddr + "/"
	}
	for _, c := range e.opts.Controllers {
		spec, err := LookupController(c.Name)
		if err != nil {
			return err
		}
		if spec.ReceivesEvents {
			continue
		}
		l := launch{spec: spec, opts: c, bin: bins[c.Name], eventsURL: eventsURL}
		if err := e.start(&l); err != nil {
			return err
		}
		launched = append(launched, l)
	}
	for i := range launched {
		if err := e.wait(ctx, &launched[i]); err != nil {
			return err
		}
	}
	return nil
}

// launch is one controller instance being started.
type launch struct {
	spec      ControllerSpec
	opts      ControllerOptions
	bin       string
	eventsURL string
	proc      *Process
}

// portRaceAttempts bounds the restarts of a controller that lost a port race.
const portRaceAttempts = 3

func (e *Env) startAndWait(ctx context.Context, l *launch) error {
	if err := e.start(l); err != nil {
		return err
	}
	return e.wait(ctx, l)
}

// start launches the controller on freshly picked loopback ports.
func (e *Env) start(l *launch) error {
	p, err := e.newProcess(l.spec, l.opts, l.bin, l.eventsURL)
	if err != nil {
		return err
	}
	e.opts.Logf("e2e: starting %s (health %s)", l.opts.Instance(), p.HealthAddr)
	if err := p.start(); err != nil {
		return err
	}
	e.Controllers[l.opts.Instance()] = p
	l.proc = p
	return nil
}

// wait waits for /readyz. The ports were free when picked, but another process can take
// one before the controller binds it; a controller that exits on that is started again on
// new ports instead of failing the run.
func (e *Env) wait(ctx context.Context, l *launch) error {
	err := l.proc.waitReady(ctx)
	for attempt := 1; err != nil && attempt < portRaceAttempts && l.proc.lostPortRace(); attempt++ {
		e.opts.Logf("e2e: %s lost a port race (address already in use); starting it again on new ports", l.opts.Instance())
		if err = e.start(l); err != nil {
			return err
		}
		err = l.proc.waitReady(ctx)
	}
	return err
}

func (e *Env) newProcess(spec ControllerSpec, c ControllerOptions, bin, eventsURL string) (*Process, error) {
	dir := filepath.Join(e.Dir, "controllers", c.Instance())
	storage, tmp := filepath.Join(dir, "storage"), filepath.Join(dir, "tmp")
	for _, d := range []string{storage, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var addrs processAddrs
	for _, a := range []*string{&addrs.Metrics, &addrs.Health, &addrs.Storage, &addrs.Events, &addrs.Receiver} {
		port, err := e.freePort()
		if err != nil {
			return nil, err
		}
		*a = fmt.Sprintf("127.0.0.1:%d", port)
	}
	extra := c.Args
	if c.Shard != "" {
		extra = append([]string{"--watch-label-selector=" + ShardKeyLabel + "=" + c.Shard}, extra...)
	}
	kubeconfigFlag := e.Cluster.Kubeconfig
	if c.Peer {
		kubeconfigFlag = "" // upstream reads $KUBECONFIG (processEnv) and has no such flag
	}
	p := &Process{
		Name:         c.Instance(),
		Bin:          bin,
		Args:         argsFor(spec, addrs, kubeconfigFlag, storage, eventsURL, extra),
		Env:          processEnv(e.Cluster.Kubeconfig, tmp),
		Logs:         filepath.Join(e.logDir(), c.Instance()+".log"),
		HealthAddr:   addrs.Health,
		MetricsAddr:  addrs.Metrics,
		sampleEvery:  e.opts.SampleInterval,
		readyTimeout: e.opts.ReadyTimeout,
	}
	if spec.ServesArtifacts {
		p.StorageAddr = addrs.Storage
	}
	if spec.ReceivesEvents {
		p.EventsAddr, p.ReceiverAddr = addrs.Events, addrs.Receiver
	}
	return p, nil
}

// processEnv is the test's environment with the variables a controller Pod would have:
// RUNTIME_NAMESPACE (downward API in the manifests), the cluster's KUBECONFIG and a private
// TMPDIR so controllers' temporary files stay inside the Env.
func processEnv(kubeconfig, tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "KUBECONFIG", "RUNTIME_NAMESPACE", "TMPDIR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "KUBECONFIG="+kubeconfig, "RUNTIME_NAMESPACE="+RuntimeNamespace, "TMPDIR="+tmp)
}

// Controller returns the named running controller or an error naming the ones that run.
func (e *Env) Controller(name string) (*Process, error) {
	if p, ok := e.Controllers[name]; ok {
		return p, nil
	}
	var names []string
	for n := range e.Controllers {
		names = append(names, n)
	}
	return nil, fmt.Errorf("controller %s does not run in this Env (running: %s; set %s)", name, strings.Join(names, ", "), EnvControllers)
}

// Stop stops the controllers, the peers and the cluster, and removes Dir unless Options.Keep
// (or Dir was given by the caller). Safe to call more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		e.stopErr = e.stopProcesses()
		if e.opts.Keep {
			if !e.savingLogs {
				e.opts.Logf("e2e: kept %s (%s)", e.Dir, EnvKeep)
			}
			return
		}
		if e.ownDir {
			if err := os.RemoveAll(e.Dir); err != nil {
				e.stopErr = errors.Join(e.stopErr, err)
			}
		}
	})
	return e.stopErr
}

// StopFailed saves every log to a new directory (under GOTK_E2E_LOGS_DIR or the system temp
// dir), then stops like Stop, and returns where the logs are.
func (e *Env) StopFailed() (string, error) {
	var dest string
	var err error
	if base := os.Getenv(EnvLogsDir); base != "" {
		if err = os.MkdirAll(base, 0o755); err == nil {
			dest, err = os.MkdirTemp(base, "gotk-e2e-logs-")
		}
	} else {
		dest, err = os.MkdirTemp("", "gotk-e2e-logs-")
	}
	// Stop first so the logs are complete, but keep the state until they are copied.
	keep := e.opts.Keep
	e.opts.Keep, e.savingLogs = true, true
	stopErr := e.Stop()
	e.opts.Keep = keep
	if keep {
		e.opts.Logf("e2e: kept %s (%s)", e.Dir, EnvKeep)
	}
	if err == nil {
		err = e.SaveLogs(dest)
	}
	if !keep && e.ownDir {
		_ = os.RemoveAll(e.Dir)
	}
	return dest, errors.Join(err, stopErr)
}

// stopProcesses stops the controllers (in parallel), the peers and the cluster.
func (e *Env) stopProcesses() error {
	var wg sync.WaitGroup
	for _, p := range e.Controllers {
		wg.Add(1)
		go func() { defer wg.Done(); p.Stop() }()
	}
	wg.Wait()
	var errs []error
	if e.Registry != nil {
		errs = append(errs, e.Registry.Close())
	}
	if e.GitSSH != nil {
		// Keep sshd's log for SaveLogs: it lives in memory.
		_ = os.WriteFile(filepath.Join(e.logDir(), "sshd.log"), []byte(e.GitSSH.Log()), 0o644)
		errs = append(errs, e.GitSSH.Close())
	}
	if e.Git != nil {
		errs = append(errs, e.Git.Close())
	}
	if e.Cluster != nil {
		e.Cluster.Stop()
	}
	return errors.Join(errs...)
}

// LogDirs are the directories holding process logs: the controllers' (and sshd's) and the
// control plane's.
func (e *Env) LogDirs() []string {
	dirs := []string{e.logDir()}
	if e.Cluster != nil {
		dirs = append(dirs, e.Cluster.LogDir)
	}
	return dirs
}

// SaveLogs copies every *.log of LogDirs into dest (control plane logs under cluster/).
func (e *Env) SaveLogs(dest string) error {
	var errs []error
	for i, dir := range e.LogDirs() {
		to := dest
		if i > 0 {
			to = filepath.Join(dest, "cluster")
		}
		if err := copyLogs(dir, to); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func copyLogs(from, to string) error {
	files, err := filepath.Glob(filepath.Join(from, "*.log"))
	if err != nil || len(files) == 0 {
		return err
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
