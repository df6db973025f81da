// Package gitlabapi runs a server on 127.0.0.1 that answers the part of GitLab's REST API
// (v4, at https://<host>/api/v4/...) that `flux bootstrap gitlab` uses - the token's user,
// groups, projects, deploy keys, deploy tokens and group shares - with GitLab's token
// checks, status codes and error bodies, in front of a real Git server:
//
//   - projects created through the API are real bare repositories of the given
//     gitserver.Server, served over HTTPS at https://<host>/<namespace>/<path>.git behind
//     GitLab's rules (basic auth: any user name with the personal access token, or a deploy
//     token's user name and token, read-only);
//   - with an SSH server over the same root, a project's ssh_url_to_repo points at it and
//     every deploy key is authorized there for its project (gitserver.DeployKeys).
//
// It is a test peer, not a GitLab emulator: one user (the token's owner) exists, its groups
// are Options.Groups, and anything not in the routes answers 404 like GitLab does.
package gitlabapi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/pki"
)

// DefaultUsername is the token owner's username when Options.Username is empty.
const DefaultUsername = "gotk-user"

// Options configure the server.
type Options struct {
	// Token is the personal access token the API and Git over HTTPS accept. Required.
	Token string
	// Username is the token owner's username (default DefaultUsername).
	Username string
	// Groups are the groups (full paths) the user may create projects in and share with.
	Groups []string
	// Git holds and serves the repositories; required, accepting anonymous requests.
	Git *gitserver.Server
	// SSH, when set, serves the same repositories over SSH (give it Git's root).
	SSH *gitserver.SSHServer
}

// Server is a running fake GitLab API. All methods are safe for concurrent use.
type Server struct {
	opts   Options
	certs  *pki.Certs
	srv    *http.Server
	addr   string
	deploy *gitserver.DeployKeys

	mu       sync.Mutex
	projects map[string]*project // by lower-case full path
	groups   map[string]int64    // lower-case full path -> id
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
		return nil, errors.New("gitlabapi: Options.Token and Options.Git are required")
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	s := &Server{opts: opts, projects: map[string]*project{}, groups: map[string]int64{}, nextID: 100}
	for _, g := range opts.Groups {
		s.nextID++
		s.groups[lower(g)] = s.nextID
	}
	var err error
	if s.certs, err = pki.New("gitlabapi test CA"); err != nil {
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
		return nil, fmt.Errorf("gitlabapi listen: %w", err)
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

// Host is "127.0.0.1:<port>", what a client gives as its GitLab hostname.
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
	if gitserver.IsGitRequest(r.URL.Path) {
		s.serveGit(rec, r)
	} else {
		s.serveAPI(rec, r)
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Status: rec.status})
	s.mu.Unlock()
}
