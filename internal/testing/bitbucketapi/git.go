package bitbucketapi

import (
	"net/http"
	"strings"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/hostingapi"
)

// serveGit applies Bitbucket Server's rules to a Git request under /scm/<key>/<slug>.git,
// then forwards it to the Git server: the user and token may read and push; anonymous
// callers may read public repositories; archived repositories refuse pushes.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/scm/")
	i := strings.Index(p, ".git/")
	if i < 0 {
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	key, slug, ok := strings.Cut(p[:i], "/")
	rest := p[i+len(".git/"):]
	push := gitserver.IsPush(rest, r.URL.Query().Get("service"))
	who := s.authenticate(r)
	s.mu.Lock()
	var repo *repository
	if ok {
		repo = s.lookup(key, slug)
	}
	var gitName string
	var public, archived bool
	if repo != nil {
		gitName, public, archived = repo.gitName(), repo.public, repo.archived
	}
	s.mu.Unlock()
	switch {
	case who == badCredentials || (who == anonymous && (push || !public)):
		w.Header().Set("WWW-Authenticate", `Basic realm="Atlassian Bitbucket"`)
		http.Error(w, "Authentication failed", http.StatusUnauthorized)
		return
	case repo == nil:
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	case push && archived:
		http.Error(w, "Repository "+key+"/"+slug+" is archived and cannot be pushed to", http.StatusForbidden)
		return
	}
	hostingapi.Forward(s.opts.Git, w, r, gitName, rest)
}
