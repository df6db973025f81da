// Command flux-ui is the in-cluster ui component (`flux install --components-extra=ui`): the
// server of `flux ui` in cluster mode. People sign in with a Kubernetes bearer token or through
// an OpenID Connect provider (--oidc-issuer-url), and every read and action is made by
// impersonating them, so the UI never has more rights than the person using it. It serves health on --health-addr and Prometheus metrics on --metrics-addr
// like the controllers.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"gotk.dev/cli/internal/ui"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := pflag.NewFlagSet("flux-ui", pflag.ContinueOnError)
	addr := fs.String("address", ":9090", "the address the UI listens on")
	healthAddr := fs.String("health-addr", ":9440", "the address of /healthz and /readyz")
	metricsAddr := fs.String("metrics-addr", ":8080", "the address of /metrics")
	secure := fs.Bool("secure-cookies", false, "mark session cookies Secure on loopback names too (they are Secure on any other name)")
	var signIn ui.SignInFlags
	signIn.AddTo(fs)
	allNamespaces := fs.Bool("watch-all-namespaces", true, "show the Flux objects of every namespace, else only of the runtime namespace")
	logLevel := fs.String("log-level", "info", "log verbosity: debug, info or error")
	logEncoding := fs.String("log-encoding", "json", "log encoding: json or console")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("invalid --log-level %q: %w", *logLevel, err)
	}
	var handler slog.Handler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	if *logEncoding == "console" {
		handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return err
	}
	opts := ui.Options{Mode: ui.ClusterMode, Config: cfg, SecureCookies: *secure, Log: slog.New(handler)}
	if err := signIn.Apply(&opts); err != nil {
		return err
	}
	if !*allNamespaces {
		opts.Namespace = os.Getenv("RUNTIME_NAMESPACE")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	srv, err := ui.New(ctx, opts)
	if err != nil {
		return err
	}
	health := http.NewServeMux()
	health.Handle("/healthz", srv.Handler())
	health.Handle("/readyz", srv.Handler())
	metrics := http.NewServeMux()
	metrics.Handle("/metrics", promhttp.Handler())
	for _, side := range []struct {
		addr string
		h    http.Handler
	}{{*healthAddr, health}, {*metricsAddr, metrics}} {
		go func() {
			s := &http.Server{Addr: side.addr, Handler: side.h, ReadHeaderTimeout: 10e9}
			if err := s.ListenAndServe(); err != nil {
				opts.Log.Error("listen", "address", side.addr, "error", err.Error())
				cancel()
			}
		}()
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	opts.Log.Info("serving the Flux UI", "address", l.Addr().String())
	return srv.Serve(ctx, l)
}
