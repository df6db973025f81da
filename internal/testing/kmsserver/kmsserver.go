// Package kmsserver runs a real AWS KMS API for tests: the local-kms emulator
// (github.com/nsmithuk/local-kms) behind a main that listens on 127.0.0.1 only, with its
// LevelDB store in a temporary directory. Keys are created through the KMS API itself.
//
// The binary is built by `make testbin` (hack/build-peer.sh local-kms, wrapper module
// tools/peers/local-kms) into bin/ at the repository root, or found in $KUBEBUILDER_ASSETS.
package kmsserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gotk.dev/internal/testing/ports"
	"gotk.dev/internal/testing/workspace"
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
	bin, err := findBinary()
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for range 3 { // a port taken between picking and binding it is retried
		s, stop, err := start(bin, t.TempDir())
		if err == nil {
			t.Cleanup(stop)
			return s
		}
		lastErr = err
	}
	t.Fatal(lastErr)
	return nil
}

func start(bin, dir string) (*Server, func(), error) {
	port, err := ports.Free()
	if err != nil {
		return nil, nil, err
	}
	var out syncBuffer
	cmd := exec.Command(bin)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "KMS_DATA_PATH="+filepath.Join(dir, "kms"), "KMS_REGION="+Region)
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	s := &Server{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		// Any answer means it serves: an unsigned GET gets 405.
		if resp, err := http.Get(s.endpoint + "/"); err == nil {
			_ = resp.Body.Close()
			return s, stop, nil
		}
		select {
		case <-exited:
			return nil, nil, fmt.Errorf("local-kms exited before serving; output:\n%s", out.String())
		case <-ctx.Done():
			stop()
			return nil, nil, fmt.Errorf("local-kms did not answer within 30s; output:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func findBinary() (string, error) {
	dirs := []string{os.Getenv("KUBEBUILDER_ASSETS")}
	if root, err := workspace.Root(); err == nil {
		dirs = append(dirs, filepath.Join(root, "bin"))
	}
	var looked []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "local-kms")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
		looked = append(looked, d)
	}
	return "", errors.New("local-kms binary not found in " + strings.Join(looked, ", ") + ": run `" + BuildHint + "` (hack/build-peer.sh local-kms)")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
