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
}

// NewGlobalOptions returns the defaults: namespace flux-system, timeout 5m.
func NewGlobalOptions() *GlobalOptions {
	kube := genericclioptions.NewConfigFlags(false)
	return &GlobalOptions{kube: kube, Namespace: "flux-system", Timeout: 5 * time.Minute}
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
}

// RESTConfig is the client config from the kubeconfig flags, with QPS suited to a CLI.
func (g *GlobalOptions) RESTConfig() (*rest.Config, error) {
	cfg, err := g.kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("no Kubernetes cluster configured (set --kubeconfig or KUBECONFIG): %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
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
