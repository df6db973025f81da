// Package ui is the web UI of the flux CLI: `flux ui` serves it on localhost with the user's
// kubeconfig, and the `ui` component of `flux install --components-extra=ui` runs the same
// server in the cluster, signing people in (Kubernetes bearer token or OIDC) and acting as
// them through impersonation.
//
// The server keeps every Flux object it may show in a Hub fed by one watch per kind; pages
// are computed from it and pushed to browsers as server-sent events when something changes,
// so a browser never polls and the overview of thousands of objects is sent a page at a
// time. Everything else (an object's events, its inventory tree, what the next reconcile
// would change, the actions) is read or done with the viewer's own rights, with the same
// code as the CLI commands (packages fluxobj and fluxdiff).
package ui

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"gotk.dev/apis"
)

// Mode is how the server authenticates people.
type Mode string

const (
	// LocalMode is flux ui on a workstation: the kubeconfig's identity, a one-time token in
	// the URL it prints so other local users cannot use it.
	LocalMode Mode = "local"
	// ClusterMode is the in-cluster component: people sign in and are impersonated.
	ClusterMode Mode = "cluster"
)

// Options configure a Server.
type Options struct {
	Mode Mode
	// Config is the identity the server watches with (the kubeconfig's, or the in-cluster
	// service account's, which also impersonates).
	Config *rest.Config
	// Namespace limits the watches: in local mode when the identity may not list a kind
	// cluster-wide, in cluster mode always when set.
	Namespace string
	// LocalToken is the secret local mode's URL carries (required in LocalMode).
	LocalToken string
	// SecureCookies marks session cookies Secure even on loopback names (they are Secure on
	// every other name anyway).
	SecureCookies bool
	// OIDC enables sign-in with an OpenID Connect provider (cluster mode), beside tokens.
	OIDC *OIDCOptions
	// SessionSecret derives the keys of the session cookies; replicas sharing it share
	// sessions, and sessions survive restarts. Random when empty.
	SessionSecret []byte
	// SessionTTL is how long a sign-in lasts (12 hours when zero).
	SessionTTL time.Duration
	// ActionTimeout bounds how long an action waits for the controller's outcome.
	ActionTimeout time.Duration
	Log           *slog.Logger
}

// Server is the UI's HTTP server.
type Server struct {
	opts     Options
	log      *slog.Logger
	hub      *Hub
	access   Access
	mapper   meta.RESTMapper
	sessions *sessionCodec
	oidc     *oidcLogin
	mux      *http.ServeMux
}

// New connects to the cluster and starts the hub's watches; the returned server is ready
// to serve (pages say when the first lists are still loading).
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ActionTimeout <= 0 {
		o.ActionTimeout = 2 * time.Minute
	}
	if o.Mode == LocalMode && o.LocalToken == "" {
		return nil, errors.New("local mode needs a token")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	sessions, err := newSessionCodec(o.SessionSecret, o.SessionTTL, time.Now)
	if err != nil {
		return nil, err
	}
	var login *oidcLogin
	if o.OIDC != nil {
		if o.Mode != ClusterMode {
			return nil, errors.New("OIDC sign-in is for the in-cluster mode (--in-cluster)")
		}
		if login, err = newOIDCLogin(*o.OIDC); err != nil {
			return nil, err
		}
	}
	scheme, err := apis.NewScheme()
	if err != nil {
		return nil, err
	}
	hc, err := rest.HTTPClientFor(o.Config)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(o.Config, hc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfigAndClient(o.Config, hc)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, log: o.Log, hub: NewHub(o.Log), mapper: mapper, sessions: sessions, oidc: login}
	switch o.Mode {
	case LocalMode:
		local, err := NewLocalAccess(o.Config, scheme, mapper)
		if err != nil {
			return nil, err
		}
		s.access = local
		cs, err := kubernetes.NewForConfigAndClient(o.Config, hc)
		if err != nil {
			return nil, err
		}
		err = s.hub.Start(ctx, dyn, mapper, ScopeByAccess(cs, o.Namespace))
		if err != nil {
			return nil, err
		}
	case ClusterMode:
		imp, err := NewImpersonatingAccess(o.Config, scheme, mapper, 30*time.Second)
		if err != nil {
			return nil, err
		}
		s.access = imp
		// The server's own identity watches (every namespace, or only Options.Namespace);
		// what a viewer sees of it is filtered per request.
		all := func(context.Context, schema.GroupVersionResource) (string, bool) { return o.Namespace, true }
		if err := s.hub.Start(ctx, dyn, mapper, all); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("unknown mode " + string(o.Mode))
	}
	s.routes()
	return s, nil
}

// Hub is the server's object cache (for tests and benchmarks).
func (s *Server) Hub() *Hub { return s.hub }

// Handler serves the UI and its API.
func (s *Server) Handler() http.Handler { return s.guard(s.mux) }

// Serve serves on l until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	m.HandleFunc("GET /readyz", s.readyz)
	m.HandleFunc("GET /api/whoami", s.whoami)
	m.HandleFunc("GET /api/objects", s.authed(s.listObjects))
	m.HandleFunc("GET /api/stream/objects", s.authed(s.streamObjects))
	m.HandleFunc("GET /api/objects/{kind}/{namespace}/{name}", s.authed(s.getObject))
	m.HandleFunc("GET /api/stream/objects/{kind}/{namespace}/{name}", s.authed(s.streamObject))
	m.HandleFunc("GET /api/objects/{kind}/{namespace}/{name}/events", s.authed(s.objectEvents))
	m.HandleFunc("GET /api/objects/{kind}/{namespace}/{name}/tree", s.authed(s.objectTree))
	m.HandleFunc("GET /api/objects/{kind}/{namespace}/{name}/diff", s.authed(s.objectDiff))
	m.HandleFunc("POST /api/objects/{kind}/{namespace}/{name}/{action}", s.authed(s.objectAction))
	m.HandleFunc("POST /auth/token", s.signInWithToken)
	m.HandleFunc("POST /auth/logout", s.signOut)
	m.HandleFunc("GET /auth/oidc/login", s.oidcStart)
	m.HandleFunc("GET "+callbackPath, s.oidcCallback)
	m.Handle("GET /", s.assets())
	s.mux = m
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	select {
	case <-s.hub.Synced():
		_, _ = w.Write([]byte("ok"))
	default:
		http.Error(w, "listing Flux objects", http.StatusServiceUnavailable)
	}
}

// writeJSON writes v as the response.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
