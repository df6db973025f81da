// Package azurite runs Azurite, Microsoft's Azure Storage emulator, for tests: its blob service
// on 127.0.0.1 with in-memory storage and the well-known development account.
//
// Azurite is installed from the npm registry by `make testbin` (hack/install-azurite.sh) into
// bin/ at the repository root (bin/azurite-blob), or found in $KUBEBUILDER_ASSETS. It needs
// Node.js.
package azurite

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"gotk.dev/internal/testing/peer"
	"gotk.dev/internal/testing/ports"
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
	bin, err := peer.Find(opts.BinDir, "azurite-blob", BuildHint+" (hack/install-azurite.sh)")
	if err != nil {
		return nil, err
	}
	return peer.StartWithRetry(func() (*Server, error) { return start(bin, opts) })
}

func start(bin string, opts Options) (*Server, error) {
	// Azurite writes its debug and extent files into the working directory even in memory mode.
	dir, err := os.MkdirTemp("", "gotk-azurite-")
	if err != nil {
		return nil, err
	}
	port, err := ports.Free()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{host: fmt.Sprintf("127.0.0.1:%d", port)}
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--inMemoryPersistence", "--disableTelemetry", "--silent",
		// The Azure SDK may use a newer REST API version than this Azurite knows.
		"--skipApiVersionCheck")
	cmd.Dir = dir
	proc, err := peer.Start(cmd, peer.Options{Group: true}) // azurite-blob is a node wrapper
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.closer = func() error {
		proc.Stop(5 * time.Second)
		return os.RemoveAll(dir)
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	if err := proc.WaitReady(timeout, 100*time.Millisecond, s.probe); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("azurite on %s: %w; output:\n%s", s.host, err, proc.Output())
	}
	return s, nil
}

// probe lists the account's containers; any HTTP answer (403 without credentials) means it serves.
func (s *Server) probe(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.ServiceURL()+"?comp=list", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
