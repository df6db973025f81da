// Package bitbucketapi runs a server on 127.0.0.1 that answers the part of Bitbucket
// Server's (Data Center's) REST API that `flux bootstrap bitbucket-server` uses -
// repositories under /rest/api/1.0/projects/{key}/repos (and ~{user} personal projects),
// repository access keys under /rest/keys/1.0, group permissions - with Bitbucket's
// authentication (basic auth with the user name and an HTTP access token, or the token as
// a bearer), status codes and error bodies, in front of a real Git server:
//
//   - repositories created through the API are real bare repositories of the given
//     gitserver.Server, served over HTTPS at https://<host>/scm/<key>/<slug>.git to the
//     user and token;
//   - with an SSH server over the same root, a repository's ssh clone link points at it
//     and every access key is authorized there for its repository (gitserver.DeployKeys).
//
// It is a test peer, not a Bitbucket emulator: one user exists, its projects and groups
// are Options.Projects and Options.Groups, and anything else answers 404.
package bitbucketapi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/pki"
)

// DefaultUsername is the token owner's user name when Options.Username is empty.
const DefaultUsername = "gotk-user"

// Options configure the server.
type Options struct {
	// Token is the HTTP access token the API and Git over HTTPS accept. Required.
	Token string
	// Username is the token owner's user name (default DefaultUsername).
	Username string
	// Projects are the project keys the user may create repositories in.
	Projects []string
	// Groups are the groups that may be given repository permissions.
	Groups []string
	// Git holds and serves the repositories; required, accepting anonymous requests.
	Git *gitserver.Server
	// SSH, when set, serves the same repositories over SSH (give it Git's root).
	SSH *gitserver.SSHServer
}

// Server is a running fake Bitbucket Server. All methods are safe for concurrent use.
type Server struct {
	opts   Options
	certs  *pki.Certs
	srv    *http.Server
	addr   string
	deploy *gitserver.DeployKeys

	mu       sync.Mutex
	repos    map[string]*repository // by upper-case project key and slug, "KEY/slug"
	nextID   int64
	calls    []Call
	closeErr error
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
	if opts.Token == "" || opts.Git == nil {
		return nil, errors.New("bitbucketapi: Options.Token and Options.Git are required")
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	s := &Server{opts: opts, repos: map[string]*repository{}}
	var err error
	if s.certs, err = pki.New("bitbucketapi test CA"); err != nil {
		return nil, err
	}
	cfg, err := s.certs.ServerConfig(false)
	if err != nil {
		return nil, err
	}
	if s.deploy, err = gitserver.NewDeployKeys(opts.SSH); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = s.deploy.Close()
		return nil, fmt.Errorf("bitbucketapi listen: %w", err)
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

// Close stops serving; deploy keys stop working.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.closeErr = errors.Join(s.srv.Close(), s.deploy.Close())
		s.srv = nil
	}
	return s.closeErr
}

// Host is "127.0.0.1:<port>", what a client gives as its Bitbucket Server hostname.
func (s *Server) Host() string { return s.addr }

// URL is the web and Git base URL, "https://127.0.0.1:<port>".
func (s *Server) URL() string { return "https://" + s.addr }

// CACert is the PEM certificate of the CA that signed the server's certificate.
func (s *Server) CACert() []byte { return s.certs.CAPEM }

// Calls lists the requests answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// recorder remembers the status code written, for Calls.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets git http-backend stream.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	if strings.HasPrefix(r.URL.Path, "/scm/") && gitserver.IsGitRequest(r.URL.Path) {
		s.serveGit(rec, r)
	} else {
		s.serveAPI(rec, r)
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Status: rec.status})
	s.mu.Unlock()
}
