// Package githubapi runs a server on 127.0.0.1 that answers the part of GitHub's REST API
// (v3, GitHub Enterprise layout: https://<host>/api/v3/...) that repository bootstrapping and
// notification-controller use - the authenticated user, organisations, repositories, deploy
// keys and commit statuses - with
// GitHub's token checks, status codes and error bodies, in front of a real Git server:
//
//   - repositories created through the API are real bare repositories of the given
//     gitserver.Server, served over HTTPS at https://<host>/<owner>/<name>.git behind the
//     same token check GitHub applies (basic auth with the token as password);
//   - with an SSH server over the same root, a repository's ssh_url points at it and every
//     deploy key added through the API is authorized there, restricted to its repository
//     and, unless read_only is false, to fetching; deleting the key revokes it.
//
// It is a test peer, not a GitHub emulator: one user (the token's owner) exists, and only
// the endpoints listed in routes are served; anything else answers 404 like GitHub does.
//
//	api := githubapi.New(t, githubapi.Options{Token: "ghp_x", Git: gitSrv, SSH: sshSrv})
//	// flux bootstrap github --hostname=<api.Host()> --ca-file=<api.CACert()> ...
package githubapi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/pki"
)

// DefaultLogin is the authenticated user's login when Options.Login is empty.
const DefaultLogin = "gotk-user"

// Options configure the server.
type Options struct {
	// Token is the personal access token the API and Git over HTTPS accept. Required.
	Token string
	// Login is the token owner's login (default DefaultLogin).
	Login string
	// Orgs are the organisations the user belongs to and may create repositories in.
	Orgs []string
	// Teams are the team slugs of those organisations that repositories can be shared with.
	Teams []string
	// Git holds and serves the repositories; required. The API server forwards Git
	// requests it has authorized to it, so it must accept anonymous requests.
	Git *gitserver.Server
	// SSH, when set, serves the same repositories over SSH (give it Git's root): ssh_url
	// points at it and deploy keys are authorized on it.
	SSH *gitserver.SSHServer
	// Apps are the GitHub Apps registered on the server (apps.go).
	Apps []App
	// TokenLifetime is how long installation tokens live (default an hour, as GitHub's).
	TokenLifetime time.Duration
}

// Server is a running fake GitHub API. All methods are safe for concurrent use.
type Server struct {
	opts   Options
	certs  *pki.Certs
	srv    *http.Server
	addr   string
	deploy *gitserver.DeployKeys

	mu     sync.Mutex
	repos  map[string]*repository // by lower-case "owner/name", as GitHub is case-insensitive
	keys   map[string]string      // authorized key fingerprint -> "owner/name" holding it
	nextID int64
	calls  []Call
	// installTokens are the installation tokens issued, by token.
	installTokens map[string]installationToken
	closeErr      error
}

// Call is one request the server answered, for assertions ("nothing was created").
type Call struct {
	Method string
	Path   string
	Status int
}

func (c Call) String() string { return fmt.Sprintf("%s %s %d", c.Method, c.Path, c.Status) }

// Start serves HTTPS on a free port of 127.0.0.1 with a certificate from a new CA (CACert).
func Start(opts Options) (*Server, error) {
	if opts.Token == "" {
		return nil, errors.New("githubapi: Options.Token is required")
	}
	if opts.Git == nil {
		return nil, errors.New("githubapi: Options.Git is required")
	}
	if opts.Login == "" {
		opts.Login = DefaultLogin
	}
	s := &Server{opts: opts, repos: map[string]*repository{}, keys: map[string]string{}}
	var err error
	if s.certs, err = pki.New("githubapi test CA"); err != nil {
		return nil, err
	}
	if s.deploy, err = gitserver.NewDeployKeys(opts.SSH); err != nil {
		return nil, err
	}
	cfg, err := s.certs.ServerConfig(false)
	if err != nil {
		_ = s.deploy.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = s.deploy.Close()
		return nil, fmt.Errorf("githubapi listen: %w", err)
	}
	s.addr = ln.Addr().String()
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP)}
	go func() { _ = s.srv.Serve(tls.NewListener(ln, cfg)) }()
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

// Close stops serving and removes the server's state. Authorized deploy keys stop working
// (their state is gone) but stay in the SSH server's authorized_keys.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.closeErr = errors.Join(s.srv.Close(), s.deploy.Close())
		s.srv = nil
	}
	return s.closeErr
}

// Host is "127.0.0.1:<port>", what a client gives as its GitHub hostname.
func (s *Server) Host() string { return s.addr }

// URL is the web and Git base URL, "https://127.0.0.1:<port>".
func (s *Server) URL() string { return "https://" + s.addr }

// APIURL is the REST API base URL, "https://127.0.0.1:<port>/api/v3/".
func (s *Server) APIURL() string { return s.URL() + apiPrefix + "/" }

// CACert is the PEM certificate of the CA that signed the server's certificate.
func (s *Server) CACert() []byte { return s.certs.CAPEM }

// Calls lists the requests answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// statusRecorder remembers the status code written, for Calls.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets git http-backend stream (the CGI handler flushes when it can).
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	if gitserver.IsGitRequest(r.URL.Path) {
		s.serveGit(rec, r)
	} else {
		s.serveAPI(rec, r)
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Status: rec.status})
	s.mu.Unlock()
}
