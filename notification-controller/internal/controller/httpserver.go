package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// shutdownTimeout bounds how long a server waits for requests in flight when the manager stops.
const shutdownTimeout = 10 * time.Second

// httpServer serves a handler for as long as the manager runs, on every replica: events and
// webhooks may reach any pod behind the Service, leader or not. The listener is bound when
// the server is built, so a taken port fails the process at start and /readyz never reports
// ready while requests would be refused.
type httpServer struct {
	name     string
	listener net.Listener
	server   *http.Server
	serving  atomic.Bool
	// stop runs after the HTTP server has shut down (drain queues); nil does nothing.
	stop func(ctx context.Context)
}

func newHTTPServer(name, flag, addr string, h http.Handler) (*httpServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, addr, err)
	}
	return &httpServer{
		name:     name,
		listener: l,
		server: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			IdleTimeout:       2 * time.Minute,
		},
	}, nil
}

// Addr is the address the server listens on (the port chosen for ":0").
func (s *httpServer) Addr() string { return s.listener.Addr().String() }

// Start serves until ctx ends, then shuts down gracefully.
func (s *httpServer) Start(ctx context.Context) error {
	errc := make(chan error, 1)
	s.serving.Store(true)
	go func() { errc <- s.server.Serve(s.listener) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	s.serving.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := s.server.Shutdown(shutdownCtx); serr != nil && err == nil {
		err = serr
	}
	if s.stop != nil {
		s.stop(shutdownCtx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// NeedLeaderElection lets every replica serve.
func (*httpServer) NeedLeaderElection() bool { return false }

// ready is the server's /readyz check.
func (s *httpServer) ready(*http.Request) error {
	if !s.serving.Load() {
		return fmt.Errorf("%s not serving", s.name)
	}
	return nil
}
