package app

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"gotk.dev/cli/pkg/kube"
)

// GlobalOptions are the flags every command has: kubeconfig selection, namespace, timeout.
type GlobalOptions struct {
	kube      *genericclioptions.ConfigFlags
	Namespace string
	Timeout   time.Duration
	Verbose   bool
	// QPS and Burst throttle the client, as upstream's --kube-api-qps and --kube-api-burst.
	QPS   float32
	Burst int
	// NamespaceFollowsContext takes the namespace of the kubeconfig context when
	// --namespace is not given.
	NamespaceFollowsContext bool
}

// EnvSystemNamespace overrides the default namespace (flux-system), as upstream.
const EnvSystemNamespace = "FLUX_SYSTEM_NAMESPACE"

// NewGlobalOptions returns the defaults: namespace flux-system, timeout 5m.
func NewGlobalOptions() *GlobalOptions {
	kube := genericclioptions.NewConfigFlags(false)
	return &GlobalOptions{kube: kube, Namespace: "flux-system", Timeout: 5 * time.Minute, QPS: 50, Burst: 300}
}

// BindFlags registers --kubeconfig, --context, --namespace/-n, --timeout, --verbose and the
// other kubeconfig overrides kubectl users expect.
func (g *GlobalOptions) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(g.kube.KubeConfig, "kubeconfig", "", "Path to the kubeconfig file to use for CLI requests.")
	fs.StringVar(g.kube.Context, "context", "", "The name of the kubeconfig context to use.")
	fs.StringVar(g.kube.ClusterName, "cluster", "", "The name of the kubeconfig cluster to use.")
	fs.StringVar(g.kube.AuthInfoName, "user", "", "The name of the kubeconfig user to use.")
	fs.StringVar(g.kube.APIServer, "server", "", "The address and port of the Kubernetes API server.")
	fs.StringVar(g.kube.BearerToken, "token", "", "Bearer token for authentication to the API server.")
	fs.StringVar(g.kube.CAFile, "certificate-authority", "", "Path to a cert file for the certificate authority.")
	fs.BoolVar(g.kube.Insecure, "insecure-skip-tls-verify", false, "If true, the server's certificate will not be checked for validity.")
	fs.StringVarP(&g.Namespace, "namespace", "n", g.Namespace, "The namespace scope for this operation.")
	fs.DurationVar(&g.Timeout, "timeout", g.Timeout, "Timeout for this operation.")
	fs.BoolVar(&g.Verbose, "verbose", false, "Print generated objects.")
	fs.StringVar(g.kube.Impersonate, "as", "", "Username to impersonate for the operation. User could be a regular user or a service account in a namespace.")
	fs.StringArrayVar(g.kube.ImpersonateGroup, "as-group", nil, "Group to impersonate for the operation, this flag can be repeated to specify multiple groups.")
	fs.StringVar(g.kube.ImpersonateUID, "as-uid", "", "UID to impersonate for the operation.")
	fs.StringArrayVar(g.kube.ImpersonateUserExtra, "as-user-extra", nil, "User extras to impersonate for the operation, this flag can be repeated to specify multiple values for the same key.")
	fs.StringVar(g.kube.CacheDir, "cache-dir", *g.kube.CacheDir, "Default cache directory")
	fs.StringVar(g.kube.CertFile, "client-certificate", "", "Path to a client certificate file for TLS authentication to the Kubernetes API server")
	fs.StringVar(g.kube.KeyFile, "client-key", "", "Path to a client key file for TLS authentication to the Kubernetes API server")
	fs.StringVar(g.kube.TLSServerName, "tls-server-name", "", "Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used")
	fs.BoolVar(g.kube.DisableCompression, "disable-compression", false, "If true, opt-out of response compression for all requests to the server")
	fs.Float32Var(&g.QPS, "kube-api-qps", g.QPS, "The maximum queries-per-second of requests sent to the Kubernetes API.")
	fs.IntVar(&g.Burst, "kube-api-burst", g.Burst, "The maximum burst queries-per-second of requests sent to the Kubernetes API.")
	fs.BoolVar(&g.NamespaceFollowsContext, "ns-follows-kube-context", false, "If set, the namespace of the kubeconfig context is used when --namespace is not given.")
}

// Resolve settles the namespace once the flags are parsed: --namespace when given, else the
// kubeconfig context's namespace with --ns-follows-kube-context, else $FLUX_SYSTEM_NAMESPACE,
// else flux-system.
func (g *GlobalOptions) Resolve(fs *pflag.FlagSet, getenv func(string) string) error {
	if f := fs.Lookup("namespace"); f != nil && f.Changed {
		return nil
	}
	if ns := getenv(EnvSystemNamespace); ns != "" {
		g.Namespace = ns
	}
	if !g.NamespaceFollowsContext {
		return nil
	}
	ns, overridden, err := g.kube.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return fmt.Errorf("--ns-follows-kube-context: cannot read the kubeconfig context's namespace: %w", err)
	}
	if overridden || ns != "default" {
		g.Namespace = ns
		return nil
	}
	// "default" is also what the loader says when the context sets no namespace: take it
	// only when the context really names it.
	raw, err := g.kube.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return err
	}
	name := raw.CurrentContext
	if *g.kube.Context != "" {
		name = *g.kube.Context
	}
	if ctx, ok := raw.Contexts[name]; ok && ctx.Namespace != "" {
		g.Namespace = ctx.Namespace
	}
	return nil
}

// RESTConfig is the client config from the kubeconfig flags, with QPS suited to a CLI.
func (g *GlobalOptions) RESTConfig() (*rest.Config, error) {
	cfg, err := g.kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("no Kubernetes cluster configured (set --kubeconfig or KUBECONFIG): %w", err)
	}
	if g.QPS <= 0 || g.Burst <= 0 {
		return nil, fmt.Errorf("--kube-api-qps and --kube-api-burst must be positive (got %v and %d)", g.QPS, g.Burst)
	}
	cfg.QPS, cfg.Burst = g.QPS, g.Burst
	cfg.UserAgent = "flux/" + Version
	return cfg, nil
}

// Kube bundles the clients a command needs.
type Kube = kube.Client

// Kube builds the clients. No request is made until the first call.
func (g *GlobalOptions) Kube() (*Kube, error) {
	cfg, err := g.RESTConfig()
	if err != nil {
		return nil, err
	}
	return kube.New(cfg)
}
