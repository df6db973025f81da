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
	"errors"
	"strings"
	"sync"
	"testing"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/hostingapi"
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
	*hostingapi.Front
	opts   Options
	deploy *gitserver.DeployKeys

	mu     sync.Mutex
	repos  map[string]*repository // by upper-case project key and slug, "KEY/slug"
	nextID int64
}

// Call is one request the server answered, for assertions ("nothing was created").
type Call = hostingapi.Call

// Start serves HTTPS on a free port of 127.0.0.1 with a certificate from a new CA (CACert).
func Start(opts Options) (*Server, error) {
	if opts.Token == "" || opts.Git == nil {
		return nil, errors.New("bitbucketapi: Options.Token and Options.Git are required")
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	s := &Server{opts: opts, repos: map[string]*repository{}}
	front, err := hostingapi.Serve("bitbucketapi", opts.SSH, hostingapi.Routes{IsGit: func(p string) bool { return strings.HasPrefix(p, "/scm/") && gitserver.IsGitRequest(p) }, Git: s.serveGit, API: s.serveAPI})
	if err != nil {
		return nil, err
	}
	s.Front, s.deploy = front, front.Deploy
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
