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
	"errors"
	"sync"
	"testing"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/hostingapi"
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
	*hostingapi.Front
	opts   Options
	deploy *gitserver.DeployKeys

	mu       sync.Mutex
	projects map[string]*project // by lower-case full path
	groups   map[string]int64    // lower-case full path -> id
	nextID   int64
}

// Call is one request the server answered, for assertions ("nothing was created").
type Call = hostingapi.Call

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
	front, err := hostingapi.Serve("gitlabapi", opts.SSH, hostingapi.Routes{Git: s.serveGit, API: s.serveAPI})
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
