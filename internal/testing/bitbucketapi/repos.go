package bitbucketapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// repository is the server's record of one repository; its Git data lives in Options.Git
// under gitName.
type repository struct {
	key      string // project key, or ~user for a personal repository
	slug     string
	name     string
	public   bool
	archived bool
	keys     []*accessKey
	groups   map[string]string // group -> REPO_READ, REPO_WRITE, REPO_ADMIN
}

func (r *repository) personal() bool { return strings.HasPrefix(r.key, "~") }

// gitName is where the repository lives on the Git server (no '~' in paths).
func (r *repository) gitName() string {
	if r.personal() {
		return "users/" + strings.ToLower(r.key[1:]) + "/" + r.slug
	}
	return "projects/" + strings.ToLower(r.key) + "/" + r.slug
}

// scmPath is the repository's Git path under /scm/.
func (r *repository) scmPath() string { return strings.ToLower(r.key) + "/" + r.slug }

// Repository is what a test can read about a repository.
type Repository struct {
	Key, Slug  string
	Public     bool
	Archived   bool
	AccessKeys []AccessKey
	Groups     map[string]string
}

func repoKey(key, slug string) string { return strings.ToUpper(key) + "/" + strings.ToLower(slug) }

// lookup finds a repository. Callers hold s.mu.
func (s *Server) lookup(key, slug string) *repository { return s.repos[repoKey(key, slug)] }

func (s *Server) doc(r *repository) map[string]any {
	clone := []map[string]any{{"href": s.URL() + "/scm/" + r.scmPath() + ".git", "name": "http"}}
	if s.opts.SSH != nil {
		clone = append(clone, map[string]any{"href": s.opts.SSH.RepoURL(r.gitName()), "name": "ssh"})
	}
	browse := s.URL() + "/projects/" + r.key + "/repos/" + r.slug + "/browse"
	typ := "NORMAL"
	if r.personal() {
		typ = "PERSONAL"
		browse = s.URL() + "/users/" + strings.ToLower(r.key[1:]) + "/repos/" + r.slug + "/browse"
	}
	return map[string]any{
		"slug": r.slug, "name": r.name, "scmId": "git", "state": "AVAILABLE", "forkable": true,
		"public": r.public, "archived": r.archived,
		"project": map[string]any{"key": r.key, "name": r.key, "type": typ},
		"links":   map[string]any{"clone": clone, "self": []map[string]any{{"href": browse}}},
	}
}

// withRepo runs f with s.mu held and the repository found, or answers Bitbucket's 404.
func (s *Server) withRepo(w http.ResponseWriter, key, slug string, f func(r *repository)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(key, slug)
	if r == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Repository %s/%s does not exist.", key, slug), "com.atlassian.bitbucket.repository.NoSuchRepositoryException")
		return
	}
	f(r)
}

func (s *Server) getRepo(w http.ResponseWriter, who caller, key, slug string) {
	s.mu.Lock()
	r := s.lookup(key, slug)
	hidden := r == nil || (!r.public && who != authenticated)
	s.mu.Unlock()
	if hidden {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Repository %s/%s does not exist.", key, slug), "com.atlassian.bitbucket.repository.NoSuchRepositoryException")
		return
	}
	s.withRepo(w, key, slug, func(r *repository) { writeJSON(w, http.StatusOK, s.doc(r)) })
}

// projectExists reports a project key the user may create repositories in: one of
// Options.Projects, or the user's own personal project.
func (s *Server) projectExists(key string) bool {
	if strings.HasPrefix(key, "~") {
		return strings.EqualFold(key[1:], s.opts.Username)
	}
	return slices.ContainsFunc(s.opts.Projects, func(p string) bool { return strings.EqualFold(p, key) })
}

// slugPattern is what Bitbucket drops when it derives a slug from a name.
var slugPattern = regexp.MustCompile(`[^a-z0-9_.-]+`)

func slugOf(name string) string {
	return strings.Trim(slugPattern.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

func (s *Server) createRepo(w http.ResponseWriter, req *http.Request, key string) {
	var body struct {
		Name   string `json:"name"`
		ScmID  string `json:"scmId"`
		Public bool   `json:"public"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "The request body is not valid JSON", "")
		return
	}
	if !s.projectExists(key) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Project %s does not exist.", key), "com.atlassian.bitbucket.project.NoSuchProjectException")
		return
	}
	if strings.HasPrefix(key, "~") {
		key = "~" + strings.ToUpper(key[1:])
	} else {
		key = strings.ToUpper(key)
	}
	r, err := s.create(key, body.Name, body.Public)
	if err == errExists {
		writeError(w, http.StatusConflict, "This repository URL is already taken by '"+body.Name+"'", "com.atlassian.bitbucket.repository.DuplicateRepositoryNameException")
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.doc(r))
}

var errExists = fmt.Errorf("repository exists")

// create records an empty repository.
func (s *Server) create(key, name string, public bool) (*repository, error) {
	slug := slugOf(name)
	if slug == "" {
		return nil, fmt.Errorf("Repository name must not be blank")
	}
	s.mu.Lock()
	if s.lookup(key, slug) != nil {
		s.mu.Unlock()
		return nil, errExists
	}
	r := &repository{key: key, slug: slug, name: name, public: public, groups: map[string]string{}}
	s.repos[repoKey(key, slug)] = r
	s.mu.Unlock()
	if err := s.opts.Git.Init(r.gitName()); err != nil {
		s.mu.Lock()
		delete(s.repos, repoKey(key, slug))
		s.mu.Unlock()
		return nil, err
	}
	return r, nil
}

func (s *Server) updateRepo(w http.ResponseWriter, req *http.Request, key, slug string) {
	var body struct {
		Public *bool `json:"public"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "The request body is not valid JSON", "")
		return
	}
	s.withRepo(w, key, slug, func(r *repository) {
		if body.Public != nil {
			r.public = *body.Public
		}
		writeJSON(w, http.StatusOK, s.doc(r))
	})
}

func (s *Server) listGroups(w http.ResponseWriter, req *http.Request, key, slug string) {
	filter := req.URL.Query().Get("filter")
	s.withRepo(w, key, slug, func(r *repository) {
		values := []map[string]any{}
		for g, perm := range r.groups {
			if filter == "" || strings.Contains(g, filter) {
				values = append(values, map[string]any{"group": map[string]any{"name": g}, "permission": perm})
			}
		}
		writeJSON(w, http.StatusOK, page(values, len(values)))
	})
}

func (s *Server) grantGroup(w http.ResponseWriter, req *http.Request, key, slug string) {
	q := req.URL.Query()
	perm, group := q.Get("permission"), q.Get("name")
	if perm != "REPO_READ" && perm != "REPO_WRITE" && perm != "REPO_ADMIN" {
		writeError(w, http.StatusBadRequest, "The permission '"+perm+"' is not a valid repository permission", "")
		return
	}
	if !slices.Contains(s.opts.Groups, group) {
		writeError(w, http.StatusNotFound, "No such group "+group, "com.atlassian.bitbucket.user.NoSuchGroupException")
		return
	}
	s.withRepo(w, key, slug, func(r *repository) {
		r.groups[group] = perm
		w.WriteHeader(http.StatusNoContent)
	})
}

// CreateRepository adds an empty repository as if the user had created it earlier.
func (s *Server) CreateRepository(key, name string, public bool) error {
	_, err := s.create(strings.ToUpper(key), name, public)
	return err
}

// Archive marks a repository archived: pushes are refused.
func (s *Server) Archive(key, slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.lookup(key, slug); r != nil {
		r.archived = true
	}
}

// Repository returns what the server knows about a repository.
func (s *Server) Repository(key, slug string) (Repository, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(key, slug)
	if r == nil {
		return Repository{}, false
	}
	out := Repository{Key: r.key, Slug: r.slug, Public: r.public, Archived: r.archived, Groups: map[string]string{}}
	for _, k := range r.keys {
		out.AccessKeys = append(out.AccessKeys, AccessKey{ID: k.id, Label: k.label, Key: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.pk))), Permission: k.permission})
	}
	for g, p := range r.groups {
		out.Groups[g] = p
	}
	return out, true
}
