package gitlabapi

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// apiPrefix is where GitLab serves the REST API.
const apiPrefix = "/api/v4/"

// caller is who made an API request.
type caller int

const (
	anonymous caller = iota
	authenticated
	badCredentials
)

// authenticate reads "PRIVATE-TOKEN: <token>" or "Authorization: Bearer <token>".
func (s *Server) authenticate(r *http.Request) caller {
	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		if scheme, rest, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
			tok = strings.TrimSpace(rest)
		}
	}
	switch {
	case tok == "" && r.Header.Get("Authorization") == "":
		return anonymous
	case subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1:
		return authenticated
	}
	return badCredentials
}

// segments splits the escaped path after the API prefix, unescaping each segment, so an
// id "group%2Fproject" stays one segment as GitLab reads it.
func segments(r *http.Request) ([]string, bool) {
	p, ok := strings.CutPrefix(r.URL.EscapedPath(), apiPrefix)
	if !ok {
		return nil, false
	}
	raw := strings.Split(strings.Trim(p, "/"), "/")
	out := make([]string, 0, len(raw))
	for _, seg := range raw {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		out = append(out, u)
	}
	return out, true
}

// serveAPI authenticates the request and dispatches it. GitLab refuses a wrong token on
// every endpoint and hides private projects from anonymous callers.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	parts, ok := segments(r)
	if !ok {
		writeMessage(w, http.StatusNotFound, "404 Not Found")
		return
	}
	who := s.authenticate(r)
	if who == badCredentials {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	route := func(method string, pattern ...string) bool {
		if r.Method != method || len(parts) != len(pattern) {
			return false
		}
		for i, seg := range pattern {
			if seg != "*" && seg != parts[i] {
				return false
			}
		}
		return true
	}
	if who != authenticated && r.Method != http.MethodGet {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	switch {
	case route(http.MethodGet, "user"):
		if who != authenticated {
			writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": 1, "username": s.opts.Username, "name": s.opts.Username})
	case route(http.MethodGet, "groups", "*"):
		s.getGroup(w, parts[1])
	case route(http.MethodGet, "projects", "*"):
		s.getProject(w, who, parts[1])
	case route(http.MethodPost, "projects"):
		s.createProject(w, r)
	case route(http.MethodPut, "projects", "*"):
		s.updateProject(w, r, parts[1])
	case route(http.MethodPost, "projects", "*", "share"):
		s.share(w, r, parts[1])
	case route(http.MethodDelete, "projects", "*", "share", "*"):
		s.unshare(w, parts[1], parts[3])
	case route(http.MethodGet, "projects", "*", "deploy_keys"):
		s.listKeys(w, who, parts[1])
	case route(http.MethodPost, "projects", "*", "deploy_keys"):
		s.addKey(w, r, parts[1])
	case route(http.MethodDelete, "projects", "*", "deploy_keys", "*"):
		s.deleteKey(w, parts[1], parts[3])
	case route(http.MethodGet, "projects", "*", "deploy_tokens"):
		s.listTokens(w, who, parts[1])
	case route(http.MethodPost, "projects", "*", "deploy_tokens"):
		s.createToken(w, r, parts[1])
	case route(http.MethodDelete, "projects", "*", "deploy_tokens", "*"):
		s.deleteToken(w, parts[1], parts[3])
	default:
		writeMessage(w, http.StatusNotFound, "404 Not Found")
	}
}

func (s *Server) getGroup(w http.ResponseWriter, path string) {
	s.mu.Lock()
	id, ok := s.groups[lower(path)]
	s.mu.Unlock()
	if !ok {
		writeMessage(w, http.StatusNotFound, "404 Group Not Found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "path": path, "full_path": path, "name": path})
}

func lower(s string) string { return strings.ToLower(s) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeMessage is GitLab's error body: {"message": ...} (a string, or a map of field
// errors for validation failures).
func writeMessage(w http.ResponseWriter, status int, message any) {
	writeJSON(w, status, map[string]any{"message": message})
}
