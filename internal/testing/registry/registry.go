// Package registry runs OCI registries on 127.0.0.1 for tests: the CNCF distribution registry
// (the reference implementation, as a real process with filesystem storage, htpasswd auth and
// TLS) and go-containerregistry's in-process registry for fast unit tests.
//
// The distribution binary is built by `make testbin` (hack/build-registry.sh) into bin/ at the
// repository root, or found in $KUBEBUILDER_ASSETS like the control-plane binaries.
package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gotk.dev/internal/testing/peer"
	"gotk.dev/internal/testing/ports"

	"golang.org/x/crypto/bcrypt"

	"gotk.dev/internal/testing/pki"
)

// BuildHint is the command that builds the distribution registry binary.
const BuildHint = "make testbin"

// Options configure a distribution registry process.
type Options struct {
	// BinDir holds the `registry` binary. Default: $KUBEBUILDER_ASSETS, else bin/ at the
	// repository root (the directory holding go.work).
	BinDir string
	// Users, when not empty, turns on htpasswd basic auth with these username -> password pairs.
	Users map[string]string
	// TLS serves HTTPS with a certificate for 127.0.0.1 and localhost signed by a fresh CA
	// (see Registry.CAPEM).
	TLS bool
	// ClientAuth (with TLS) requires client certificates signed by the same CA
	// (see Registry.ClientCertPEM).
	ClientAuth bool
	// StartTimeout bounds the wait for /v2/ to answer. Default 30s.
	StartTimeout time.Duration
}

// Registry is a running registry. Close stops it and removes its storage.
type Registry struct {
	host    string
	storage string
	tls     *pki.Certs
	closer  func() error
	once    sync.Once
	err     error
}

// Host is the registry address, "127.0.0.1:<port>".
func (r *Registry) Host() string { return r.host }

// URL is the oci:// address of repo on this registry ("oci://127.0.0.1:<port>/<repo>").
func (r *Registry) URL(repo string) string { return "oci://" + r.host + "/" + repo }

// StorageDir is the filesystem storage root of a distribution registry (blobs live under
// docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data), for tests that tamper with stored data;
// empty for the in-process registry.
func (r *Registry) StorageDir() string { return r.storage }

// CAPEM is the PEM certificate of the CA that signed the server (and client) certificate; nil
// without TLS.
func (r *Registry) CAPEM() []byte {
	if r.tls == nil {
		return nil
	}
	return r.tls.CAPEM
}

// ClientCertPEM is a client certificate and key signed by the CA; nil without TLS.
func (r *Registry) ClientCertPEM() (certPEM, keyPEM []byte) {
	if r.tls == nil {
		return nil, nil
	}
	return r.tls.ClientCertPEM, r.tls.ClientKeyPEM
}

// TLSConfig trusts the registry's CA (and presents the client certificate when the registry
// requires one); nil without TLS.
func (r *Registry) TLSConfig() *tls.Config {
	if r.tls == nil {
		return nil
	}
	return r.tls.ClientConfig()
}

// Close stops the registry and deletes its storage. Safe to call twice.
func (r *Registry) Close() error {
	r.once.Do(func() { r.err = r.closer() })
	return r.err
}

// Start runs `registry serve` with a fresh config and storage in a temporary directory and waits
// until /v2/ answers. A port taken between picking and binding it is retried.
func Start(opts Options) (*Registry, error) {
	bin, err := peer.Find(opts.BinDir, "registry", BuildHint+" (hack/build-registry.sh)")
	if err != nil {
		return nil, err
	}
	return peer.StartWithRetry(func() (*Registry, error) { return start(bin, opts) })
}

func start(bin string, opts Options) (*Registry, error) {
	dir, err := os.MkdirTemp("", "gotk-registry-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	port, err := ports.Free()
	if err != nil {
		cleanup()
		return nil, err
	}
	r := &Registry{host: fmt.Sprintf("127.0.0.1:%d", port), storage: filepath.Join(dir, "data")}
	cfg := config{addr: r.host, storage: r.storage}
	if len(opts.Users) > 0 {
		cfg.htpasswd = filepath.Join(dir, "htpasswd")
		if err := writeHtpasswd(cfg.htpasswd, opts.Users); err != nil {
			cleanup()
			return nil, err
		}
	}
	if opts.TLS || opts.ClientAuth {
		if r.tls, err = pki.New("gotk test registry CA"); err != nil {
			cleanup()
			return nil, err
		}
		files, err := r.tls.WriteServerFiles(dir)
		if err != nil {
			cleanup()
			return nil, err
		}
		cfg.cert, cfg.key = files.Cert, files.Key
		if opts.ClientAuth {
			cfg.clientCA = files.CA
		}
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, cfg.render(), 0o600); err != nil {
		cleanup()
		return nil, err
	}

	cmd := exec.Command(bin, "serve", cfgPath)
	// The registry would otherwise try to export traces to a collector that is not there.
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=none",
		"OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none")
	proc, err := peer.Start(cmd, peer.Options{})
	if err != nil {
		cleanup()
		return nil, err
	}
	r.closer = func() error {
		proc.Stop(0)
		return os.RemoveAll(dir)
	}

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if err := proc.WaitReady(timeout, 50*time.Millisecond, r.probe); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("registry on %s: %w; output:\n%s", r.host, err, proc.Output())
	}
	return r, nil
}

// probe asks /v2/, which answers 200 (anonymous) or 401 (auth on) once the registry serves.
func (r *Registry) probe(ctx context.Context) error {
	scheme := "http"
	tr := &http.Transport{}
	if r.tls != nil {
		scheme = "https"
		tr.TLSClientConfig = r.TLSConfig()
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+r.host+"/v2/", nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("/v2/ answered %s", resp.Status)
	}
	return nil
}

// config is the subset of the distribution configuration the tests use.
type config struct {
	addr, storage, htpasswd string
	cert, key, clientCA     string
}

func (c config) render() []byte {
	var b bytes.Buffer
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	fmt.Fprintf(&b, "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n")
	fmt.Fprintf(&b, "storage:\n  filesystem:\n    rootdirectory: %q\n  delete:\n    enabled: true\n", c.storage)
	fmt.Fprintf(&b, "http:\n  addr: %s\n  secret: %s\n", c.addr, hex.EncodeToString(secret))
	if c.cert != "" {
		fmt.Fprintf(&b, "  tls:\n    certificate: %q\n    key: %q\n", c.cert, c.key)
		if c.clientCA != "" {
			fmt.Fprintf(&b, "    clientcas:\n      - %q\n", c.clientCA)
		}
	}
	if c.htpasswd != "" {
		fmt.Fprintf(&b, "auth:\n  htpasswd:\n    realm: gotk-test\n    path: %q\n", c.htpasswd)
	}
	return b.Bytes()
}

// writeHtpasswd writes bcrypt entries (the only scheme distribution accepts), at the minimum
// cost so tests stay fast.
func writeHtpasswd(path string, users map[string]string) error {
	var b strings.Builder
	for user, pass := range users {
		if user == "" || strings.ContainsAny(user, ":\n") {
			return fmt.Errorf("htpasswd: invalid username %q", user)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("htpasswd: hash password of %q: %w", user, err)
		}
		fmt.Fprintf(&b, "%s:%s\n", user, hash)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
