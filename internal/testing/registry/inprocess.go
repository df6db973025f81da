package registry

import (
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// StartInProcess serves go-containerregistry's in-memory registry on 127.0.0.1 (plain HTTP, no
// auth). It starts in microseconds, for unit tests of client logic; use Start for behaviour the
// reference registry decides (auth, TLS, storage).
func StartInProcess() (*Registry, error) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	return &Registry{
		host:   strings.TrimPrefix(srv.URL, "http://"),
		closer: func() error { srv.Close(); return nil },
	}, nil
}

// StartInProcessOn is StartInProcess listening on addr ("127.0.0.2:0"): go-containerregistry
// reaches 127.0.0.1 over plain HTTP by itself, any other loopback address only when told it
// is insecure, which tests of that setting need.
func StartInProcessOn(addr string) (*Registry, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	return &Registry{
		host:   strings.TrimPrefix(srv.URL, "http://"),
		closer: func() error { srv.Close(); return nil },
	}, nil
}
