package gitlabapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// project is the server's record of one project; its Git data lives in Options.Git under
// "<namespace>/<path>".
type project struct {
	id            int64
	namespace     string
	path          string
	visibility    string
	archived      bool
	defaultBranch string
	createdAt     time.Time
	keys          []*deployKey
	tokens        []*deployToken
	shares        map[int64]int // group id -> access level
}

func (p *project) fullPath() string { return p.namespace + "/" + p.path }

// Project is what a test can read about a project.
type Project struct {
	Namespace, Path string
	Visibility      string
	Archived        bool
	DeployKeys      []DeployKey
	DeployTokens    []DeployToken
	// Shares are the access levels of the groups the project is shared with, by group path.
	Shares map[string]int
}

// lookup finds a project by numeric id or full path. Callers hold s.mu.
func (s *Server) lookup(id string) *project {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		for _, p := range s.projects {
			if p.id == n {
				return p
			}
		}
		return nil
	}
	return s.projects[lower(id)]
}

func (s *Server) doc(p *project) map[string]any {
	var shared []map[string]any
	for gid, level := range p.shares {
		shared = append(shared, map[string]any{"group_id": gid, "group_access_level": level})
	}
	d := map[string]any{
		"id": p.id, "name": p.path, "path": p.path, "path_with_namespace": p.fullPath(),
		"namespace":        map[string]any{"full_path": p.namespace, "path": p.namespace},
		"web_url":          s.URL() + "/" + p.fullPath(),
		"http_url_to_repo": s.URL() + "/" + p.fullPath() + ".git",
		"default_branch":   p.defaultBranch, "visibility": p.visibility, "archived": p.archived,
		"created_at": p.createdAt, "shared_with_groups": shared,
	}
	if s.opts.SSH != nil {
		d["ssh_url_to_repo"] = s.opts.SSH.RepoURL(p.fullPath())
	}
	return d
}

// withProject runs f with s.mu held and the project found, or answers GitLab's 404.
func (s *Server) withProject(w http.ResponseWriter, id string, f func(p *project)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(id)
	if p == nil {
		writeMessage(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	f(p)
}

func (s *Server) getProject(w http.ResponseWriter, who caller, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(id)
	if p == nil || (p.visibility != "public" && who != authenticated) {
		writeMessage(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	writeJSON(w, http.StatusOK, s.doc(p))
}

// pathPattern is what GitLab accepts as a project path.
var pathPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

type createRequest struct {
	Name          string `json:"name"`
	Path          string `json:"path"`
	NamespaceID   int64  `json:"namespace_id"`
	Visibility    string `json:"visibility"`
	InitReadme    bool   `json:"initialize_with_readme"`
	DefaultBranch string `json:"default_branch"`
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) {
	var body createRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - invalid JSON")
		return
	}
	if body.Path == "" {
		body.Path = body.Name
	}
	if !pathPattern.MatchString(body.Path) {
		writeMessage(w, http.StatusBadRequest, map[string][]string{"path": {"can contain only letters, digits, '_', '-' and '.'"}})
		return
	}
	namespace := s.opts.Username
	if body.NamespaceID != 0 {
		namespace = ""
		s.mu.Lock()
		for g, id := range s.groups {
			if id == body.NamespaceID {
				namespace = g
			}
		}
		s.mu.Unlock()
		if namespace == "" {
			writeMessage(w, http.StatusNotFound, "404 Namespace Not Found")
			return
		}
	}
	switch body.Visibility {
	case "":
		body.Visibility = "private"
	case "private", "internal", "public":
	default:
		writeMessage(w, http.StatusBadRequest, map[string][]string{"visibility": {"does not have a valid value"}})
		return
	}
	p, err := s.create(namespace, body.Path, body.Visibility, body.DefaultBranch, body.InitReadme)
	if err == errTaken {
		writeMessage(w, http.StatusBadRequest, map[string][]string{"path": {"has already been taken"}, "name": {"has already been taken"}})
		return
	}
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.doc(p))
}

var errTaken = fmt.Errorf("project path taken")

// create records a project and initialises its Git data, with a README commit on the
// default branch when readme.
func (s *Server) create(namespace, path, visibility, branch string, readme bool) (*project, error) {
	if branch == "" {
		branch = "main"
	}
	s.mu.Lock()
	if s.lookup(namespace+"/"+path) != nil {
		s.mu.Unlock()
		return nil, errTaken
	}
	s.nextID++
	p := &project{id: s.nextID, namespace: namespace, path: path, visibility: visibility, defaultBranch: branch,
		createdAt: time.Now().UTC().Truncate(time.Second), shares: map[int64]int{}}
	s.projects[lower(p.fullPath())] = p
	s.mu.Unlock()
	fail := func(err error) (*project, error) {
		s.mu.Lock()
		delete(s.projects, lower(p.fullPath()))
		s.mu.Unlock()
		return nil, fmt.Errorf("create project %s: %w", p.fullPath(), err)
	}
	if err := s.opts.Git.Init(p.fullPath()); err != nil {
		return fail(err)
	}
	if readme {
		if _, err := s.opts.Git.Commit(p.fullPath()).Branch(branch).File("README.md", "# "+path+"\n").Message("Initial commit").Do(); err != nil {
			return fail(err)
		}
	}
	return p, nil
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Visibility string `json:"visibility"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - invalid JSON")
		return
	}
	s.withProject(w, id, func(p *project) {
		if body.Visibility != "" {
			p.visibility = body.Visibility
		}
		writeJSON(w, http.StatusOK, s.doc(p))
	})
}

func (s *Server) share(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		GroupID int64 `json:"group_id"`
		Access  int   `json:"group_access"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - invalid JSON")
		return
	}
	s.withProject(w, id, func(p *project) {
		known := false
		for _, gid := range s.groups {
			known = known || gid == body.GroupID
		}
		switch {
		case !known:
			writeMessage(w, http.StatusNotFound, "404 Group Not Found")
		case p.shares[body.GroupID] != 0:
			writeMessage(w, http.StatusConflict, "Group already shared with this group")
		default:
			p.shares[body.GroupID] = body.Access
			writeJSON(w, http.StatusCreated, map[string]any{"group_id": body.GroupID, "group_access": body.Access})
		}
	})
}

func (s *Server) unshare(w http.ResponseWriter, id, group string) {
	gid, _ := strconv.ParseInt(group, 10, 64)
	s.withProject(w, id, func(p *project) {
		if p.shares[gid] == 0 {
			writeMessage(w, http.StatusNotFound, "404 Not found")
			return
		}
		delete(p.shares, gid)
		w.WriteHeader(http.StatusNoContent)
	})
}

// CreateProject adds a project as if the user had created it earlier (empty, no API call
// recorded).
func (s *Server) CreateProject(namespace, path, visibility string) error {
	_, err := s.create(namespace, path, visibility, "", false)
	return err
}

// Archive marks a project archived: pushes are refused.
func (s *Server) Archive(namespace, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.lookup(namespace + "/" + path); p != nil {
		p.archived = true
	}
}

// Project returns what the server knows about a project.
func (s *Server) Project(namespace, path string) (Project, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(namespace + "/" + path)
	if p == nil {
		return Project{}, false
	}
	out := Project{Namespace: p.namespace, Path: p.path, Visibility: p.visibility, Archived: p.archived, Shares: map[string]int{}}
	for _, k := range p.keys {
		out.DeployKeys = append(out.DeployKeys, k.public())
	}
	for _, t := range p.tokens {
		out.DeployTokens = append(out.DeployTokens, t.public())
	}
	for g, id := range s.groups {
		if level := p.shares[id]; level != 0 {
			out.Shares[g] = level
		}
	}
	return out, true
}
