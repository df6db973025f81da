package githubapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// repository is the server's record of one repository; its Git data lives in Options.Git
// under "<owner>/<name>".
type repository struct {
	id            int64
	owner, name   string
	private       bool
	archived      bool
	description   string
	defaultBranch string
	createdAt     time.Time
	keys          []*deployKey
	// teams are the organisation teams with access, by slug -> permission.
	teams map[string]string
	// statuses are the commit statuses by commit hash, newest first.
	statuses map[string][]CommitStatus
}

func (r *repository) gitName() string { return r.owner + "/" + r.name }

// Repository is what a test can read about a repository.
type Repository struct {
	Owner, Name   string
	Private       bool
	Archived      bool
	Description   string
	DefaultBranch string
	DeployKeys    []DeployKey
	// Teams are the teams with access, by slug -> permission.
	Teams map[string]string
}

// repoDoc is GitHub's repository document (the fields clients read).
type repoDoc struct {
	ID            int64           `json:"id"`
	Name          string          `json:"name"`
	FullName      string          `json:"full_name"`
	Owner         user            `json:"owner"`
	Private       bool            `json:"private"`
	Archived      bool            `json:"archived"`
	Visibility    string          `json:"visibility"`
	Description   string          `json:"description"`
	HTMLURL       string          `json:"html_url"`
	URL           string          `json:"url"`
	CloneURL      string          `json:"clone_url"`
	SSHURL        string          `json:"ssh_url,omitempty"`
	DefaultBranch string          `json:"default_branch"`
	CreatedAt     time.Time       `json:"created_at"`
	Permissions   map[string]bool `json:"permissions,omitempty"`
}

// repoNamePattern is what GitHub accepts as a repository name.
var repoNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func repoKey(owner, name string) string { return strings.ToLower(owner + "/" + name) }

// lookup returns the repository (nil when unknown). Callers hold s.mu.
func (s *Server) lookup(owner, name string) *repository {
	return s.repos[repoKey(owner, strings.TrimSuffix(name, ".git"))]
}

func (s *Server) doc(r *repository, who caller) repoDoc {
	visibility := "public"
	if r.private {
		visibility = "private"
	}
	ownerType := "User"
	if s.isOrg(r.owner) {
		ownerType = "Organization"
	}
	d := repoDoc{
		ID: r.id, Name: r.name, FullName: r.owner + "/" + r.name,
		Owner:   user{Login: r.owner, ID: 1, Type: ownerType},
		Private: r.private, Archived: r.archived, Visibility: visibility, Description: r.description,
		HTMLURL:       s.URL() + "/" + r.gitName(),
		URL:           s.APIURL() + "repos/" + r.gitName(),
		CloneURL:      s.URL() + "/" + r.gitName() + ".git",
		DefaultBranch: r.defaultBranch, CreatedAt: r.createdAt,
	}
	if s.opts.SSH != nil {
		d.SSHURL = s.opts.SSH.RepoURL(r.gitName())
	}
	if who == authenticated {
		d.Permissions = map[string]bool{"admin": true, "push": true, "pull": true}
	}
	return d
}

func (s *Server) getRepo(w http.ResponseWriter, who caller, owner, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil || (r.private && who != authenticated) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, s.doc(r, who))
}

// createRequest is the body of POST /user/repos and /orgs/{org}/repos.
type createRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Private     bool   `json:"private"`
	Visibility  string `json:"visibility"`
	AutoInit    bool   `json:"auto_init"`
}

func (s *Server) createRepo(w http.ResponseWriter, req *http.Request, owner string) {
	var body createRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if !repoNamePattern.MatchString(body.Name) || body.Name == "." || body.Name == ".." {
		writeError(w, http.StatusUnprocessableEntity, "Repository creation failed.",
			fieldError{Resource: "Repository", Code: "custom", Field: "name", Message: "name is invalid"})
		return
	}
	private := body.Private || body.Visibility == "private" || body.Visibility == "internal"
	r, err := s.create(owner, body.Name, body.Description, private, body.AutoInit)
	if err == errExists {
		writeError(w, http.StatusUnprocessableEntity, "Repository creation failed.",
			fieldError{Resource: "Repository", Code: "custom", Field: "name", Message: "name already exists on this account"})
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.doc(r, authenticated))
}

var errExists = fmt.Errorf("repository exists")

// create records a repository and initialises its Git data, with a README commit on the
// default branch when autoInit (GitHub's auto_init).
func (s *Server) create(owner, name, description string, private, autoInit bool) (*repository, error) {
	s.mu.Lock()
	if s.lookup(owner, name) != nil {
		s.mu.Unlock()
		return nil, errExists
	}
	s.nextID++
	r := &repository{id: s.nextID, owner: owner, name: name, private: private, description: description, teams: map[string]string{},
		defaultBranch: "main", createdAt: time.Now().UTC().Truncate(time.Second)}
	s.repos[repoKey(owner, name)] = r
	s.mu.Unlock()

	fail := func(err error) (*repository, error) {
		s.mu.Lock()
		delete(s.repos, repoKey(owner, name))
		s.mu.Unlock()
		return nil, fmt.Errorf("create repository %s/%s: %w", owner, name, err)
	}
	if err := s.opts.Git.Init(r.gitName()); err != nil {
		return fail(err)
	}
	if autoInit {
		readme := "# " + name + "\n"
		if description != "" {
			readme += "\n" + description + "\n"
		}
		if _, err := s.opts.Git.Commit(r.gitName()).Branch(r.defaultBranch).File("README.md", readme).Message("Initial commit").Do(); err != nil {
			return fail(err)
		}
	}
	return r, nil
}

// CreateRepository adds a repository as if the user had created it earlier (empty, no API
// call recorded). It fails when the repository exists.
func (s *Server) CreateRepository(owner, name string, private bool) error {
	_, err := s.create(owner, name, "", private, false)
	return err
}

// Repository returns what the server knows about a repository.
func (s *Server) Repository(owner, name string) (Repository, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return Repository{}, false
	}
	out := Repository{Owner: r.owner, Name: r.name, Private: r.private, Archived: r.archived, Description: r.description,
		DefaultBranch: r.defaultBranch, Teams: map[string]string{}}
	for k, v := range r.teams {
		out.Teams[k] = v
	}
	for _, k := range r.keys {
		out.DeployKeys = append(out.DeployKeys, k.public())
	}
	return out, true
}

// Archive makes a repository read-only, as GitHub's archive setting does.
func (s *Server) Archive(owner, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.lookup(owner, name); r != nil {
		r.archived = true
	}
}
