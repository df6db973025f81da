package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"gotk.dev/cli/internal/ui"
)

// uiOptions are the flags of flux ui.
type uiOptions struct {
	address   string
	inCluster bool
	secure    bool
	signIn    ui.SignInFlags
}

// newUICommand is flux ui: the web UI on localhost with the kubeconfig's identity, or, with
// --in-cluster, the in-cluster component signing people in and impersonating them.
func newUICommand(c *Command) *cobra.Command {
	o := &uiOptions{}
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve the Flux web UI",
		Long: `The ui command serves a web UI showing every Flux object of the cluster: status,
conditions, source revisions, history, events, the inventory as a resource tree, the dependsOn
graph and what the next reconcile would change, with buttons to reconcile, suspend and resume.

Locally it acts with your kubeconfig (your RBAC, nothing is installed) and answers only on a
loopback address, at a URL carrying a one-time token. With --in-cluster it is the ui
component: people sign in with a Kubernetes bearer token or, with --oidc-issuer-url, through an
OpenID Connect provider, and every read and action is made by impersonating them, so the UI never
has more rights than the person using it.`,
		Example: `  # Serve the UI on localhost:9292
  flux ui

  # Another port
  flux ui --address 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.runUI(cmd, o) },
	}
	cmd.Flags().StringVar(&o.address, "address", "127.0.0.1:9292", "the address to listen on (a loopback address unless --in-cluster)")
	cmd.Flags().BoolVar(&o.inCluster, "in-cluster", false, "run as the in-cluster ui component: sign people in and impersonate them")
	cmd.Flags().BoolVar(&o.secure, "secure-cookies", false, "mark session cookies Secure on loopback names too (they are Secure on any other name)")
	o.signIn.AddTo(cmd.Flags())
	return cmd
}

func (c *Command) runUI(cmd *cobra.Command, o *uiOptions) error {
	ctx := cmd.Context()
	opts := ui.Options{Mode: ui.LocalMode, SecureCookies: o.secure, Log: slog.New(slog.NewTextHandler(c.Err, nil))}
	var err error
	if o.inCluster {
		opts.Mode = ui.ClusterMode
		if opts.Config, err = rest.InClusterConfig(); err != nil {
			return fmt.Errorf("--in-cluster: %w", err)
		}
		if err := o.signIn.Apply(&opts); err != nil {
			return err
		}
	} else {
		host, _, err := net.SplitHostPort(o.address)
		if err != nil {
			return fmt.Errorf("invalid --address %q: %w", o.address, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("invalid --address %q: flux ui acts with your credentials and listens only on a loopback address", o.address)
		}
		if opts.Config, err = c.Global.RESTConfig(); err != nil {
			return err
		}
		opts.Namespace = c.Global.Namespace
		opts.LocalToken = ui.RandomToken()
	}
	srv, err := ui.New(ctx, opts)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.address)
	if err != nil {
		return err
	}
	if opts.Mode == ui.LocalMode {
		u := url.URL{Scheme: "http", Host: l.Addr().String(), Path: "/", RawQuery: url.Values{"token": {opts.LocalToken}}.Encode()}
		c.Log().Successf("serving the Flux UI at %s", u.String())
	}
	return srv.Serve(ctx, l)
}
