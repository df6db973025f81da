// Package kmsserver runs a real AWS KMS API for tests: the local-kms emulator
// (github.com/nsmithuk/local-kms) behind a main that listens on 127.0.0.1 only, with its
// LevelDB store in a temporary directory. Keys are created through the KMS API itself.
//
// The binary is built by `make testbin` (hack/build-peer.sh local-kms, wrapper module
// tools/peers/local-kms) into bin/ at the repository root, or found in $KUBEBUILDER_ASSETS.
package kmsserver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gotk.dev/internal/testing/peer"
	"gotk.dev/internal/testing/ports"
)

// BuildHint is the command that builds the local-kms binary.
const BuildHint = "make testbin"

// Region is the region the server answers for (in key ARNs).
const Region = "us-east-1"

// Server is a running local-kms.
type Server struct {
	endpoint string
}

// Endpoint is the base URL, "http://127.0.0.1:<port>" (AWS_ENDPOINT_URL_KMS).
func (s *Server) Endpoint() string { return s.endpoint }

// Start runs local-kms on a free port until the end of the test. A missing binary fails the
// test, naming the command that builds it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := peer.Find("", "local-kms", BuildHint+" (hack/build-peer.sh local-kms)")
	if err != nil {
		t.Fatal(err)
	}
	s, err := peer.StartWithRetry(func() (*Server, error) { return start(t, bin) })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func start(t testing.TB, bin string) (*Server, error) {
	port, err := ports.Free()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "KMS_DATA_PATH="+filepath.Join(t.TempDir(), "kms"), "KMS_REGION="+Region)
	p, err := peer.Start(cmd, peer.Options{})
	if err != nil {
		return nil, err
	}
	s := &Server{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	// Any answer means it serves: an unsigned GET gets 405.
	err = p.WaitReady(30*time.Second, 50*time.Millisecond, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"/", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
	if err != nil {
		p.Stop(0)
		return nil, fmt.Errorf("local-kms: %w; output:\n%s", err, p.Output())
	}
	t.Cleanup(func() { p.Stop(0) })
	return s, nil
}
