package bitbucketapi

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// The REST API roots Bitbucket Server serves.
const (
	restPrefix = "/rest/api/1.0/"
	keysPrefix = "/rest/keys/1.0/"
)

// caller is who made an API request.
type caller int

const (
	anonymous caller = iota
	authenticated
	badCredentials
)

// authenticate accepts basic auth with the user name and the token, or the token as a
// bearer, as Bitbucket Server does for HTTP access tokens.
func (s *Server) authenticate(r *http.Request) caller {
	h := r.Header.Get("Authorization")
	if h == "" {
		return anonymous
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if strings.EqualFold(user, s.opts.Username) && equal(pass, s.opts.Token) {
			return authenticated
		}
		return badCredentials
	}
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "bearer") && equal(strings.TrimSpace(rest), s.opts.Token) {
		return authenticated
	}
	return badCredentials
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// serveAPI authenticates the request and dispatches it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	var parts []string
	keys := false
	switch {
	case strings.HasPrefix(r.URL.Path, restPrefix):
		parts = strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, restPrefix), "/"), "/")
	case strings.HasPrefix(r.URL.Path, keysPrefix):
		parts, keys = strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, keysPrefix), "/"), "/"), true
	default:
		writeError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	who := s.authenticate(r)
	switch who {
	case badCredentials:
		writeError(w, http.StatusUnauthorized, "Authentication failed. Please check your credentials and try again.",
			"com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException")
		return
	case anonymous:
		if r.Method != http.MethodGet || keys {
			writeError(w, http.StatusUnauthorized, "You are not permitted to access this resource", "com.atlassian.bitbucket.AuthorisationException")
			return
		}
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
	switch {
	case keys && route(http.MethodGet, "projects", "*", "repos", "*", "ssh"):
		s.listKeys(w, parts[1], parts[3])
	case keys && route(http.MethodPost, "projects", "*", "repos", "*", "ssh"):
		s.addKey(w, r, parts[1], parts[3])
	case keys && route(http.MethodDelete, "projects", "*", "repos", "*", "ssh", "*"):
		s.deleteKey(w, parts[1], parts[3], parts[5])
	case keys:
		writeError(w, http.StatusNotFound, "Not Found", "")
	case route(http.MethodGet, "projects", "*", "repos", "*"):
		s.getRepo(w, who, parts[1], parts[3])
	case route(http.MethodPost, "projects", "*", "repos"):
		s.createRepo(w, r, parts[1])
	case route(http.MethodPut, "projects", "*", "repos", "*"):
		s.updateRepo(w, r, parts[1], parts[3])
	case route(http.MethodGet, "projects", "*", "repos", "*", "permissions", "groups"):
		s.listGroups(w, r, parts[1], parts[3])
	case route(http.MethodPut, "projects", "*", "repos", "*", "permissions", "groups"):
		s.grantGroup(w, r, parts[1], parts[3])
	default:
		writeError(w, http.StatusNotFound, "Not Found", "")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError is Bitbucket Server's error body.
func writeError(w http.ResponseWriter, status int, message, exception string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"context": nil, "message": message, "exceptionName": exception}}})
}

// page is Bitbucket Server's paged answer, all on one page.
func page(values any, size int) map[string]any {
	return map[string]any{"size": size, "limit": 100, "isLastPage": true, "start": 0, "values": values}
}
