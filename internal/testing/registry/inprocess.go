package registry

import (
	"io"
	"log"
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
