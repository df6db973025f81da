package gitserver

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"gotk.dev/internal/testing/pki"
)

// Options configure the smart-HTTP server. The zero value serves anonymous,
// read-write plain HTTP from a fresh temporary directory.
type Options struct {
	// Root holds the bare repositories; empty means a new temporary
	// directory, removed by Close.
	Root string
	// DefaultBranch is the HEAD branch of repositories made by InitRepo
	// (default "main").
	DefaultBranch string
	// Username and Password require HTTP basic auth.
	Username, Password string
	// BearerToken requires "Authorization: Bearer <token>". When both this
	// and basic auth are set, either is accepted.
	BearerToken string
	// TLS serves HTTPS with a certificate from a generated CA (see CACert).
	TLS bool
	// MTLS serves HTTPS and requires a client certificate signed by the CA
	// (see ClientCert and ClientKey). Implies TLS.
	MTLS bool
	// ReadOnly refuses pushes (git-receive-pack).
	ReadOnly bool
}

// Server serves the bare repositories under its root over Git's smart HTTP
// protocol through the real git http-backend (CGI), on 127.0.0.1.
type Server struct {
	*Repos
	opts    Options
	backend string
	certs   *pki.Certs
	tmpRoot string
	addr    string // fixed at first start so Restart keeps the port

	mu  sync.Mutex
	srv *http.Server

	infoRefs    atomic.Int64
	uploadPack  atomic.Int64
	receivePack atomic.Int64

	// backendLog is git http-backend's error output. Tests provoke refusals on purpose (a
	// push racing another one prints "cannot lock ref"): on the test binary's stderr they
	// read like failures even when the test passes.
	backendLog syncBuffer
}

// BackendLog returns what git http-backend wrote to its error output so far.
func (s *Server) BackendLog() string { return s.backendLog.String() }

// RequestCounts counts the Git requests a server answered (authenticated
// ones only), so tests can assert e.g. that nothing was cloned.
type RequestCounts struct {
	InfoRefs    int64 // GET .../info/refs (ref advertisement, ls-remote)
	UploadPack  int64 // POST .../git-upload-pack (fetch/clone)
	ReceivePack int64 // POST .../git-receive-pack (push)
}

// Start serves on a free port of 127.0.0.1.
func Start(opts Options) (*Server, error) {
	exe, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("find git exec path (is git installed?): %w", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(exe)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("git-http-backend: %w", err)
	}
	s := &Server{opts: opts, backend: backend}
	root := opts.Root
	if root == "" {
		if s.tmpRoot, err = os.MkdirTemp("", "gitserver-"); err != nil {
			return nil, err
		}
		root = s.tmpRoot
	}
	if s.Repos, err = NewRepos(root, opts.DefaultBranch); err != nil {
		s.cleanup()
		return nil, err
	}
	if opts.TLS || opts.MTLS {
		if s.certs, err = pki.New("gitserver test CA"); err != nil {
			s.cleanup()
			return nil, err
		}
	}
	if err := s.listen("127.0.0.1:0"); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

// New starts a server for a test and closes it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func (s *Server) listen(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("gitserver listen on %s: %w", addr, err)
	}
	s.addr = ln.Addr().String()
	srv := &http.Server{Handler: s}
	if s.certs != nil {
		cfg, err := s.certs.ServerConfig(s.opts.MTLS)
		if err != nil {
			_ = ln.Close()
			return err
		}
		srv.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
	}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Stop closes the listener and every open connection, simulating an outage;
// Restart brings the server back on the same address.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	s.srv = nil
	return err
}

// Restart starts serving again on the address used before Stop.
func (s *Server) Restart() error { return s.listen(s.addr) }

// Close stops the server and removes the root when Start created it.
func (s *Server) Close() error {
	err := s.Stop()
	s.cleanup()
	return err
}

func (s *Server) cleanup() {
	if s.tmpRoot != "" {
		_ = os.RemoveAll(s.tmpRoot)
	}
}

// URL is the server's base URL, e.g. "https://127.0.0.1:41234".
func (s *Server) URL() string {
	scheme := "http"
	if s.certs != nil {
		scheme = "https"
	}
	return scheme + "://" + s.addr
}

// Addr is host:port of the listener.
func (s *Server) Addr() string { return s.addr }

// RepoURL is the clone URL of repository name, e.g. <URL>/org/app.git.
func (s *Server) RepoURL(name string) string {
	return s.URL() + "/" + repoFile(name)
}

// InitRepo creates an empty bare repository and returns its clone URL.
func (s *Server) InitRepo(name string) (string, error) {
	if err := s.Init(name); err != nil {
		return "", err
	}
	return s.RepoURL(name), nil
}

// CACert is the PEM CA certificate clients must trust (nil without TLS).
func (s *Server) CACert() []byte { return s.pem(func(c *pki.Certs) []byte { return c.CAPEM }) }

// ClientCert is a PEM client certificate the server accepts under MTLS.
func (s *Server) ClientCert() []byte {
	return s.pem(func(c *pki.Certs) []byte { return c.ClientCertPEM })
}

// ClientKey is the PEM (PKCS#8) private key of ClientCert.
func (s *Server) ClientKey() []byte {
	return s.pem(func(c *pki.Certs) []byte { return c.ClientKeyPEM })
}

func (s *Server) pem(f func(*pki.Certs) []byte) []byte {
	if s.certs == nil {
		return nil
	}
	return f(s.certs)
}

// Requests returns how many Git requests the server has answered.
func (s *Server) Requests() RequestCounts {
	return RequestCounts{
		InfoRefs:    s.infoRefs.Load(),
		UploadPack:  s.uploadPack.Load(),
		ReceivePack: s.receivePack.Load(),
	}
}

// ServeHTTP authenticates the request, then hands it to git http-backend.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, ok := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="gitserver"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	service := r.URL.Query().Get("service")
	switch {
	case strings.HasSuffix(r.URL.Path, "/info/refs"):
		s.infoRefs.Add(1)
	case strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
		s.uploadPack.Add(1)
	case strings.HasSuffix(r.URL.Path, "/git-receive-pack"):
		service = "git-receive-pack"
		s.receivePack.Add(1)
	}
	if s.opts.ReadOnly && service == "git-receive-pack" {
		http.Error(w, "pushes are disabled on this server", http.StatusForbidden)
		return
	}
	env := []string{
		"GIT_PROJECT_ROOT=" + s.Dir(),
		"GIT_HTTP_EXPORT_ALL=1",
		// Push is allowed for anonymous users too unless ReadOnly.
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true",
	}
	if user != "" {
		env = append(env, "REMOTE_USER="+user)
	}
	if p := r.Header.Get("Git-Protocol"); p != "" {
		env = append(env, "GIT_PROTOCOL="+p) // lets git CLI clients speak protocol v2
	}
	if r.ContentLength < 0 && r.Body != nil {
		// The CGI host rejects chunked bodies, which the git CLI sends for
		// requests larger than http.postBuffer: buffer them.
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.ContentLength = int64(len(data))
		r.TransferEncoding = nil
	}
	h := &cgi.Handler{Path: s.backend, Root: "/", Env: env, Stderr: &s.backendLog}
	h.ServeHTTP(w, r)
}

// authenticate checks basic auth or a bearer token when configured and
// returns the user name to report to git (empty for anonymous access).
func (s *Server) authenticate(r *http.Request) (string, bool) {
	needBasic := s.opts.Username != "" || s.opts.Password != ""
	needToken := s.opts.BearerToken != ""
	if !needBasic && !needToken {
		return "", true
	}
	if needBasic {
		if u, p, ok := r.BasicAuth(); ok && equal(u, s.opts.Username) && equal(p, s.opts.Password) {
			return u, true
		}
	}
	if needToken {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(tok, s.opts.BearerToken) {
			return "token", true
		}
	}
	return "", false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
