package githubapi

import (
	"net/http"
	"strings"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/hostingapi"
)

// serveGit applies GitHub's rules to a Git request, then forwards it to the Git server:
// the token (as basic auth password, any user name) is required to push and to read a
// private repository; a wrong token is always refused.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) < 3 {
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	repo := s.lookup(parts[0], parts[1])
	var gitName string
	var private, archived bool
	if repo != nil {
		gitName, private, archived = repo.gitName(), repo.private, repo.archived
	}
	s.mu.Unlock()
	if account, ok := s.installationAccount(r); ok {
		// An installation token reaches its account's repositories only; others do not
		// exist for it.
		if repo == nil || !strings.EqualFold(parts[0], account) {
			http.Error(w, "Repository not found.", http.StatusNotFound)
			return
		}
		s.forwardGit(w, r, gitName, parts[2])
		return
	}
	who := s.authenticate(r)
	push := gitserver.IsPush(parts[2], r.URL.Query().Get("service"))
	if who == badCredentials || (who == anonymous && (push || private)) {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
		return
	}
	if repo == nil {
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	}
	if push && archived {
		http.Error(w, "This repository was archived so it is read-only.", http.StatusForbidden)
		return
	}
	s.forwardGit(w, r, gitName, parts[2])
}

// forwardGit hands an authorized request to the Git server, without its credentials.
func (s *Server) forwardGit(w http.ResponseWriter, r *http.Request, gitName, rest string) {
	hostingapi.Forward(s.opts.Git, w, r, gitName, rest)
}
