// Package cluster runs a local Kubernetes cluster from the binaries `make testbin` builds: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok with simulated nodes, so that
// Deployments become Available without a container runtime. Used by the e2e journeys, the
// benchmark, the CLI tests and `make dev-up`.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gotk.dev/internal/testing/ports"
	"gotk.dev/internal/testing/workspace"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options configures a local cluster.
type Options struct {
	// BinDir holds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok
	// and kwok-stages/. Defaults to $KUBEBUILDER_ASSETS, then <repo>/bin.
	BinDir string
	// Dir holds all state: PKI, etcd data, logs/ and the kubeconfig. Required.
	Dir string
	// Nodes is the number of kwok nodes; 0 starts no kwok (control plane only).
	Nodes int
	// APIServerPort is the API server's loopback port; 0 picks a free one.
	APIServerPort int
	// Detach leaves the processes running after this process exits (dev-up); Stop or
	// StopDetached stops them.
	Detach bool
	// APIServerArgs are extra kube-apiserver flags (--name=value).
	APIServerArgs []string
	// ServiceAccountIssuer is the issuer of this cluster's service account tokens; empty is
	// DefaultServiceAccountIssuer. A cluster that trusts another one's issuer needs its own,
	// distinct one.
	ServiceAccountIssuer string
	// TrustedIssuers are other clusters' service account issuers whose tokens this API
	// server accepts (workload identity between clusters, as a spoke trusts its hub).
	TrustedIssuers []TrustedIssuer
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// Cluster is a running local cluster.
type Cluster struct {
	opts Options
	// Kubeconfig is the path of an admin kubeconfig with embedded credentials.
	Kubeconfig string
	// Config is the admin REST config.
	Config *rest.Config
	// LogDir holds one log file per process.
	LogDir  string
	procs   []*process
	etcdURL string
}

// DefaultServiceAccountIssuer is the service account issuer of a cluster started without
// Options.ServiceAccountIssuer, as in most clusters.
const DefaultServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

const (
	serviceCIDR = "10.96.0.0/12" // /16 or larger: a /24 runs out of Service IPs at ~250 Services
	pidFileName = "pids"
)

// Start brings up the control plane and waits until it is usable: the API server is ready,
// the built-in controllers run (the admin/edit/view roles are aggregated) and every kwok node
// is Ready and schedulable.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Dir == "" {
		return nil, errors.New("cluster: Options.Dir is required")
	}
	if opts.BinDir == "" {
		opts.BinDir = workspace.BinDir()
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.ServiceAccountIssuer == "" {
		opts.ServiceAccountIssuer = DefaultServiceAccountIssuer
	}
	c := &Cluster{opts: opts, LogDir: filepath.Join(opts.Dir, "logs"), Kubeconfig: filepath.Join(opts.Dir, "kubeconfig")}
	if err := os.MkdirAll(c.LogDir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	pki, err := writePKI(filepath.Join(opts.Dir, "pki"))
	if err != nil {
		return nil, fmt.Errorf("write PKI: %w", err)
	}
	if err := c.retryPortRace(func() error { return c.startEtcd(ctx) }); err != nil {
		return nil, err
	}
	if err := c.retryPortRace(func() error { return c.startAPIServer(ctx, pki) }); err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	if err := c.startControllerManager(ctx, pki, cs); err != nil {
		return nil, err
	}
	if _, err := c.start("kube-scheduler", []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--authentication-kubeconfig=" + c.Kubeconfig,
		"--authorization-kubeconfig=" + c.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
	}); err != nil {
		return nil, err
	}
	if opts.Nodes > 0 {
		if err := c.startKwok(ctx, cs); err != nil {
			return nil, err
		}
	}
	if opts.Detach {
		if err := (pidFile{filepath.Join(opts.Dir, pidFileName)}).write(c.procs); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Cluster) start(name string, args []string) (*process, error) {
	p, err := startProcess(name, filepath.Join(c.opts.BinDir, name), args, c.LogDir, c.opts.Detach)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// freePort picks etcd's ports (a test hands out a taken one).
var freePort = ports.Free

// portRaceAttempts bounds the starts of a process that lost a port race.
const portRaceAttempts = 3

// retryPortRace runs start, which starts one process on ports picked free, again when that
// process exited because another process took one of its ports between the pick and the
// bind.
func (c *Cluster) retryPortRace(start func() error) error {
	for attempt := 1; ; attempt++ {
		err := start()
		if err == nil || attempt == portRaceAttempts || len(c.procs) == 0 {
			return err
		}
		last := c.procs[len(c.procs)-1]
		if last.running() || !strings.Contains(tail(last.logPath, 30), "address already in use") {
			return err
		}
		c.opts.Logf("%s lost a port race (address already in use); starting it again on new ports", last.name)
	}
}

func (c *Cluster) startEtcd(ctx context.Context) error {
	// A start that lost a port race may have left a member bootstrapped for other URLs.
	if err := os.RemoveAll(filepath.Join(c.opts.Dir, "etcd")); err != nil {
		return err
	}
	clientPort, err := freePort()
	if err != nil {
		return err
	}
	peerPort, err := freePort()
	if err != nil {
		return err
	}
	client := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	c.opts.Logf("starting etcd on %s", client)
	p, err := c.start("etcd", []string{
		"--name=default",
		"--data-dir=" + filepath.Join(c.opts.Dir, "etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=default=" + peer,
		"--unsafe-no-fsync", // a throwaway test store; fsync only slows the tests down
		"--quota-backend-bytes=8589934592",
		"--log-level=warn",
	})
	if err != nil {
		return err
	}
	c.etcdURL = client
	// A bounded request: whatever else listens on a port can hold a request forever.
	hc := &http.Client{Timeout: 2 * time.Second}
	return p.waitFor(ctx, 30*time.Second, "healthy", func() error {
		resp, err := hc.Get(client + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		return nil
	})
}

func (c *Cluster) startAPIServer(ctx context.Context, pki *pki) error {
	port, err := portOrFree(c.opts.APIServerPort, "--api-port")
	if err != nil {
		return err
	}
	host := "https://127.0.0.1:" + strconv.Itoa(port)
	c.opts.Logf("starting kube-apiserver on %s", host)
	args := []string{
		"--etcd-servers=" + c.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + pki.ServingCert, "--tls-private-key-file=" + pki.ServingKey,
		"--client-ca-file=" + pki.CACert,
		"--service-account-issuer=" + c.opts.ServiceAccountIssuer,
		"--service-account-key-file=" + pki.SAPub,
		"--service-account-signing-key-file=" + pki.SAKey,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		"--cert-dir=" + filepath.Join(c.opts.Dir, "apiserver-certs"),
		"--profiling=false",
		// The kubernetes Service endpoint would point at a loopback address, which the reconciler refuses.
		"--endpoint-reconciler-type=none",
	}
	if len(c.opts.TrustedIssuers) > 0 {
		path, err := writeAuthenticationConfig(c.opts.Dir, c.opts.TrustedIssuers)
		if err != nil {
			return err
		}
		args = append(args, "--authentication-config="+path)
	}
	args = append(args, c.opts.APIServerArgs...)
	p, err := c.start("kube-apiserver", args)
	if err != nil {
		return err
	}
	if err := writeKubeconfig(c.Kubeconfig, host, pki); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 200, 400
	c.Config = cfg
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	rc := cs.Discovery().RESTClient()
	return p.waitFor(ctx, 90*time.Second, "ready", func() error {
		body, err := rc.Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("%v %s", err, strings.TrimSpace(string(body)))
		}
		return nil
	})
}

func (c *Cluster) startControllerManager(ctx context.Context, pki *pki, cs kubernetes.Interface) error {
	c.opts.Logf("starting kube-controller-manager")
	p, err := c.start("kube-controller-manager", []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--authentication-kubeconfig=" + c.Kubeconfig,
		"--authorization-kubeconfig=" + c.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		// Node IPAM needs a pod CIDR and node lifecycle would taint kwok nodes; the rest is what
		// Deployments, namespace deletion, garbage collection and role aggregation need.
		"--controllers=*,-nodeipam,-nodelifecycle,-ttl,-bootstrapsigner,-tokencleaner",
		"--service-account-private-key-file=" + pki.SAKey,
		"--root-ca-file=" + pki.CACert,
		"--cluster-signing-cert-file=" + pki.CACert,
		"--cluster-signing-key-file=" + pki.CAKey,
		"--use-service-account-credentials=false",
		"--concurrent-deployment-syncs=20", "--concurrent-replicaset-syncs=20",
		"--kube-api-qps=200", "--kube-api-burst=400",
	})
	if err != nil {
		return err
	}
	// The cluster role aggregation controller fills the built-in admin role: once it has rules,
	// the controller manager is running its controllers.
	return p.waitFor(ctx, 60*time.Second, "running its controllers", func() error {
		role, err := cs.RbacV1().ClusterRoles().Get(ctx, "admin", getOpts)
		if err != nil {
			return err
		}
		if len(role.Rules) == 0 {
			return errors.New("clusterrole admin has no aggregated rules yet")
		}
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", getOpts); err != nil {
			return err
		}
		return nil
	})
}

// Stop stops every process of this cluster, newest first. The state directory is kept so
// logs can be read after a failed test.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop(10 * time.Second)
	}
	_ = os.Remove(filepath.Join(c.opts.Dir, pidFileName))
}

// KillDetached stops the processes a detached cluster recorded in dir and keeps dir (and the
// logs in it) for a look at what failed.
func KillDetached(dir string) ([]string, error) {
	return (pidFile{filepath.Join(dir, pidFileName)}).killAll(10 * time.Second)
}

// StopDetached stops the processes a detached cluster recorded in dir and removes dir. Safe
// to call when nothing runs or dir does not exist. It returns the names it stopped.
func StopDetached(dir string) ([]string, error) {
	stopped, err := (pidFile{filepath.Join(dir, pidFileName)}).killAll(10 * time.Second)
	if err != nil {
		return stopped, err
	}
	return stopped, os.RemoveAll(dir)
}

func writeKubeconfig(path, host string, pki *pki) error {
	read := func(p string) []byte { b, _ := os.ReadFile(p); return b }
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: read(pki.CACert)}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: read(pki.AdminCert), ClientKeyData: read(pki.AdminKey)}
	cfg.Contexts["gotk-local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "gotk-local"
	return clientcmd.WriteToFile(*cfg, path)
}

// Pids are the process ids of the control plane's running processes, by name (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok), so benchmarks can read
// their CPU time.
func (c *Cluster) Pids() map[string]int {
	out := map[string]int{}
	for _, p := range c.procs {
		if p.running() {
			out[p.name] = p.cmd.Process.Pid
		}
	}
	return out
}
