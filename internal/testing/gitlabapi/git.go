package gitlabapi

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/hostingapi"
)

// serveGit applies GitLab's rules to a Git request, then forwards it to the Git server:
// the personal access token (any user name) may read and push; a deploy token (its own
// user name) may only read its project; anonymous callers may read public projects;
// archived projects refuse pushes.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	i := strings.Index(r.URL.Path, ".git/")
	if i < 0 {
		http.Error(w, "The project you were looking for could not be found.", http.StatusNotFound)
		return
	}
	full, rest := strings.TrimPrefix(r.URL.Path[:i], "/"), r.URL.Path[i+len(".git/"):]
	push := gitserver.IsPush(rest, r.URL.Query().Get("service"))
	user, pass, hasAuth := r.BasicAuth()
	s.mu.Lock()
	p := s.lookup(full)
	var gitName string
	var public, archived, deployRead bool
	if p != nil {
		gitName, public, archived = p.fullPath(), p.visibility == "public", p.archived
		for _, t := range p.tokens {
			if !t.revoked && t.username == user && subtle.ConstantTimeCompare([]byte(t.token), []byte(pass)) == 1 &&
				slices.Contains(t.scopes, "read_repository") {
				deployRead = true
			}
		}
	}
	s.mu.Unlock()
	pat := hasAuth && subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Token)) == 1
	switch {
	case hasAuth && !pat && !deployRead:
		unauthorized(w)
		return
	case !hasAuth && (push || !public):
		unauthorized(w)
		return
	case p == nil:
		http.Error(w, "The project you were looking for could not be found.", http.StatusNotFound)
		return
	case push && !pat:
		http.Error(w, "You are not allowed to push code to this project.", http.StatusForbidden)
		return
	case push && archived:
		http.Error(w, "You are not allowed to push code to an archived project.", http.StatusForbidden)
		return
	}
	hostingapi.Forward(s.opts.Git, w, r, gitName, rest)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="GitLab"`)
	http.Error(w, "HTTP Basic: Access denied.", http.StatusUnauthorized)
}
