package githubapi

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// apiPrefix is where GitHub Enterprise serves the REST API.
const apiPrefix = "/api/v3"

// docsURL is what GitHub puts in error bodies' documentation_url.
const docsURL = "https://docs.github.com/rest"

// errorBody is GitHub's error document.
type errorBody struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
}

// fieldError is one entry of a 422 answer's errors.
type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message,omitempty"`
}

// user is the /user document (the fields clients read).
type user struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type"`
}

// caller is who made an API request.
type caller int

const (
	anonymous caller = iota
	authenticated
	badCredentials
)

// authenticate reads "Authorization: token|Bearer <token>" (or basic auth with the token
// as password, which GitHub also accepts).
func (s *Server) authenticate(r *http.Request) caller {
	h := r.Header.Get("Authorization")
	if h == "" {
		return anonymous
	}
	var tok string
	if scheme, rest, ok := strings.Cut(h, " "); ok && (strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer")) {
		tok = strings.TrimSpace(rest)
	} else if _, p, ok := r.BasicAuth(); ok {
		tok = p
	}
	if tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1 {
		return authenticated
	}
	return badCredentials
}

// serveAPI authenticates the request and dispatches it. A wrong token is refused on every
// endpoint (GitHub does, even for public data); a missing one only where it is needed.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	p, ok := strings.CutPrefix(r.URL.Path, apiPrefix+"/")
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if parts[0] == "app" {
		s.serveApp(w, r, parts)
		return
	}
	who := s.authenticate(r)
	if who == badCredentials {
		writeError(w, http.StatusUnauthorized, "Bad credentials")
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
	needAuth := func() bool {
		if who != authenticated {
			writeError(w, http.StatusUnauthorized, "Requires authentication")
			return false
		}
		return true
	}
	switch {
	case route(http.MethodGet, "user"):
		if needAuth() {
			writeJSON(w, http.StatusOK, user{Login: s.opts.Login, ID: 1, Type: "User"})
		}
	case route(http.MethodGet, "orgs", "*"):
		s.getOrg(w, parts[1])
	case route(http.MethodGet, "repos", "*", "*"):
		s.getRepo(w, who, parts[1], parts[2])
	case route(http.MethodPost, "user", "repos"):
		if needAuth() {
			s.createRepo(w, r, s.opts.Login)
		}
	case route(http.MethodPost, "orgs", "*", "repos"):
		if needAuth() {
			if !s.isOrg(parts[1]) {
				writeError(w, http.StatusNotFound, "Not Found")
				return
			}
			s.createRepo(w, r, parts[1])
		}
	case route(http.MethodGet, "repos", "*", "*", "keys"):
		if needAuth() {
			s.listKeys(w, parts[1], parts[2])
		}
	case route(http.MethodPost, "repos", "*", "*", "keys"):
		if needAuth() {
			s.addKey(w, r, parts[1], parts[2])
		}
	case route(http.MethodGet, "repos", "*", "*", "keys", "*"):
		if needAuth() {
			s.getKey(w, parts[1], parts[2], parts[4])
		}
	case route(http.MethodDelete, "repos", "*", "*", "keys", "*"):
		if needAuth() {
			s.deleteKey(w, parts[1], parts[2], parts[4])
		}
	case route(http.MethodGet, "repos", "*", "*", "teams"):
		if needAuth() {
			s.listTeams(w, parts[1], parts[2])
		}
	case route(http.MethodPut, "orgs", "*", "teams", "*", "repos", "*", "*"):
		if needAuth() {
			s.grantTeam(w, r, parts[1], parts[3], parts[5], parts[6])
		}
	case route(http.MethodPost, "repos", "*", "*", "statuses", "*"):
		if needAuth() {
			s.createStatus(w, r, parts[1], parts[2], parts[4])
		}
	case route(http.MethodGet, "repos", "*", "*", "commits", "*", "statuses"):
		s.listStatuses(w, who, parts[1], parts[2], parts[4])
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

// isOrg reports whether name is one of the user's organisations (case-insensitive).
func (s *Server) isOrg(name string) bool {
	return slices.ContainsFunc(s.opts.Orgs, func(o string) bool { return strings.EqualFold(o, name) })
}

func (s *Server) getOrg(w http.ResponseWriter, name string) {
	for _, o := range s.opts.Orgs {
		if strings.EqualFold(o, name) {
			writeJSON(w, http.StatusOK, user{Login: o, ID: 2, Type: "Organization"})
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string, errs ...fieldError) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
	}
	writeJSON(w, status, errorBody{Message: message, Errors: errs, DocumentationURL: docsURL})
}
