// Package hostingapi is the part the Git hosting API test servers (githubapi, gitlabapi,
// bitbucketapi) share: HTTPS on 127.0.0.1 with a certificate from a fresh CA, deploy keys
// authorized on an optional SSH server, a log of every answered request, and the hand-off
// of authorized Git requests to the real Git server. Each server adds its own API routes
// and its host's rules for who may clone and push.
package hostingapi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/pki"
)

// Routes split the requests of one server.
type Routes struct {
	// IsGit reports whether a request path is a Git smart-HTTP request (default
	// gitserver.IsGitRequest).
	IsGit func(path string) bool
	// Git serves Git requests: it checks the host's rules and calls Forward.
	Git http.HandlerFunc
	// API serves everything else.
	API http.HandlerFunc
}

// Call is one request the server answered, for assertions ("nothing was created").
type Call struct {
	Method string
	Path   string
	Status int
}

func (c Call) String() string { return fmt.Sprintf("%s %s %d", c.Method, c.Path, c.Status) }

// Front is a running HTTPS front. Its methods are safe for concurrent use; a server
// embeds it to offer Host, URL, CACert, Calls and Close.
type Front struct {
	// Deploy authorizes deploy keys on the SSH server given to Serve (a no-op without one).
	Deploy *gitserver.DeployKeys

	routes Routes
	certs  *pki.Certs
	srv    *http.Server
	addr   string

	mu       sync.Mutex
	calls    []Call
	closed   bool
	closeErr error
}

// Serve starts serving HTTPS on a free port of 127.0.0.1. name names the CA and errors.
func Serve(name string, ssh *gitserver.SSHServer, routes Routes) (*Front, error) {
	return ServeHosts(name, nil, ssh, routes)
}

// ServeHosts is Serve with a certificate valid for hosts too (a hosted service's real names,
// which clients reach through a dial hook such as cloudapi.RouteHost).
func ServeHosts(name string, hosts []string, ssh *gitserver.SSHServer, routes Routes) (*Front, error) {
	if routes.IsGit == nil {
		routes.IsGit = gitserver.IsGitRequest
	}
	f := &Front{routes: routes}
	var err error
	if f.certs, err = pki.NewForHosts(name+" test CA", hosts...); err != nil {
		return nil, err
	}
	cfg, err := f.certs.ServerConfig(false)
	if err != nil {
		return nil, err
	}
	if f.Deploy, err = gitserver.NewDeployKeys(ssh); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = f.Deploy.Close()
		return nil, fmt.Errorf("%s listen: %w", name, err)
	}
	f.addr = ln.Addr().String()
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serveHTTP)}
	go func() { _ = f.srv.Serve(tls.NewListener(ln, cfg)) }()
	return f, nil
}

// Close stops serving. Authorized deploy keys stop working (their state is gone) but stay
// in the SSH server's authorized_keys.
func (f *Front) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		f.closeErr = errors.Join(f.srv.Close(), f.Deploy.Close())
	}
	return f.closeErr
}

// Host is "127.0.0.1:<port>", what a client gives as the host name.
func (f *Front) Host() string { return f.addr }

// URL is the web and Git base URL, "https://127.0.0.1:<port>".
func (f *Front) URL() string { return "https://" + f.addr }

// CACert is the PEM certificate of the CA that signed the server's certificate.
func (f *Front) CACert() []byte { return f.certs.CAPEM }

// Calls lists the requests answered so far, in order.
func (f *Front) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

func (f *Front) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	if f.routes.IsGit(r.URL.Path) {
		f.routes.Git(rec, r)
	} else {
		f.routes.API(rec, r)
	}
	f.mu.Lock()
	f.calls = append(f.calls, Call{Method: r.Method, Path: r.URL.Path, Status: rec.status})
	f.mu.Unlock()
}

// Forward hands an authorized Git request to git, for the bare repository gitName
// ("<name>.git" under git's root) and the path after ".git/"; the credentials are
// stripped, as git accepts anonymous requests.
func Forward(git *gitserver.Server, w http.ResponseWriter, r *http.Request, gitName, rest string) {
	fwd := r.Clone(r.Context())
	fwd.URL.Path = "/" + gitName + ".git/" + rest
	fwd.Header.Del("Authorization")
	git.ServeHTTP(w, fwd)
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
