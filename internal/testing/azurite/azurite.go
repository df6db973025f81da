// Package azurite runs Azurite, Microsoft's Azure Storage emulator, for tests: its blob service
// on 127.0.0.1 with in-memory storage and the well-known development account.
//
// Azurite is installed from the npm registry by `make testbin` (hack/install-azurite.sh) into
// bin/ at the repository root (bin/azurite-blob), or found in $KUBEBUILDER_ASSETS. It needs
// Node.js.
package azurite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"gotk.dev/internal/testing/workspace"
)

// The development storage account every Azurite serves (documented by Microsoft; not a secret).
const (
	AccountName = "devstoreaccount1"
	AccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// BuildHint is the command that installs Azurite.
const BuildHint = "make testbin"

// Options configure a server.
type Options struct {
	// BinDir holds azurite-blob. Default: $KUBEBUILDER_ASSETS, else bin/ at the repository root.
	BinDir string
	// StartTimeout bounds the wait for the service to answer. Default 90s: Node.js loads
	// Azurite slowly on a busy machine.
	StartTimeout time.Duration
}

// Server is a running Azurite blob service.
type Server struct {
	host   string
	closer func() error
	once   sync.Once
	err    error
}

// Host is "127.0.0.1:<port>".
func (s *Server) Host() string { return s.host }

// ServiceURL is the account's blob service address, http://127.0.0.1:<port>/devstoreaccount1
// (a Bucket's spec.endpoint).
func (s *Server) ServiceURL() string { return "http://" + s.host + "/" + AccountName }

// Client returns an azblob client with the account key, for seeding containers.
func (s *Server) Client() (*azblob.Client, error) {
	cred, err := azblob.NewSharedKeyCredential(AccountName, AccountKey)
	if err != nil {
		return nil, err
	}
	return azblob.NewClientWithSharedKeyCredential(s.ServiceURL(), cred, nil)
}

// PutBlobs creates container (it must not exist yet) and uploads files (blob name ->
// content). It returns each blob's ETag as listings report it (without the quotes of the
// upload response header).
func (s *Server) PutBlobs(ctx context.Context, container string, files map[string]string) (map[string]string, error) {
	c, err := s.Client()
	if err != nil {
		return nil, err
	}
	if _, err := c.CreateContainer(ctx, container, nil); err != nil {
		return nil, fmt.Errorf("create container %s: %w", container, err)
	}
	etags := map[string]string{}
	for k, v := range files {
		resp, err := c.UploadBuffer(ctx, container, k, []byte(v), nil)
		if err != nil {
			return nil, fmt.Errorf("upload %s/%s: %w", container, k, err)
		}
		etags[k] = strings.Trim(string(*resp.ETag), `"`)
	}
	return etags, nil
}

// Close stops the server. Safe to call twice.
func (s *Server) Close() error {
	s.once.Do(func() { s.err = s.closer() })
	return s.err
}

// Start runs azurite-blob on a free port and waits until it answers.
func Start(opts Options) (*Server, error) {
	bin, err := findBinary(opts.BinDir)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 {
		s, err := start(bin, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errExited) {
			break
		}
	}
	return nil, lastErr
}

var errExited = errors.New("azurite exited before serving")

func start(bin string, opts Options) (*Server, error) {
	// Azurite writes its debug and extent files into the working directory even in memory mode.
	dir, err := os.MkdirTemp("", "gotk-azurite-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{host: fmt.Sprintf("127.0.0.1:%d", port)}
	var out syncBuffer
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--inMemoryPersistence", "--disableTelemetry", "--silent",
		// The Azure SDK may use a newer REST API version than this Azurite knows.
		"--skipApiVersionCheck")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // azurite-blob is a node wrapper
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.closer = func() error {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		return os.RemoveAll(dir)
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	if err := waitReady(s, exited, timeout); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("azurite on %s: %w; output:\n%s", s.host, err, out.String())
	}
	return s, nil
}

func waitReady(s *Server, exited <-chan struct{}, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.ServiceURL()+"?comp=list", nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			return nil // any answer (403 without credentials) means it serves
		}
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			return fmt.Errorf("no answer within %s", timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func findBinary(binDir string) (string, error) {
	dirs := []string{binDir}
	if binDir == "" {
		dirs = []string{os.Getenv("KUBEBUILDER_ASSETS")}
		if root, err := workspace.Root(); err == nil {
			dirs = append(dirs, filepath.Join(root, "bin"))
		}
	}
	var looked []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "azurite-blob")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		looked = append(looked, d)
	}
	return "", fmt.Errorf("azurite-blob not found in %s: run `%s` (hack/install-azurite.sh) to install it",
		strings.Join(looked, ", "), BuildHint)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	if n := len(s.b); n > 64<<10 {
		s.b = append(s.b[:0], s.b[n-64<<10:]...)
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}
