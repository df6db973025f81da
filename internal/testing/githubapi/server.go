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
	"errors"
	"sync"
	"testing"
	"time"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/hostingapi"
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
	*hostingapi.Front
	opts   Options
	deploy *gitserver.DeployKeys

	mu     sync.Mutex
	repos  map[string]*repository // by lower-case "owner/name", as GitHub is case-insensitive
	keys   map[string]string      // authorized key fingerprint -> "owner/name" holding it
	nextID int64
	// installTokens are the installation tokens issued, by token.
	installTokens map[string]installationToken
}

// Call is one request the server answered, for assertions ("nothing was created").
type Call = hostingapi.Call

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
	front, err := hostingapi.Serve("githubapi", opts.SSH, hostingapi.Routes{Git: s.serveGit, API: s.serveAPI})
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

// APIURL is the REST API base URL, "https://127.0.0.1:<port>/api/v3/".
func (s *Server) APIURL() string { return s.URL() + apiPrefix + "/" }
