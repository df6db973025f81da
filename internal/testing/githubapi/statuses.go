package githubapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// CommitStatus is one status set on a commit (POST /repos/{owner}/{repo}/statuses/{sha}).
type CommitStatus struct {
	ID          int64     `json:"id"`
	State       string    `json:"state"`
	Description string    `json:"description"`
	TargetURL   string    `json:"target_url"`
	Context     string    `json:"context"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	URL         string    `json:"url"`
}

// statusRequest is the body of POST /repos/{owner}/{repo}/statuses/{sha}.
type statusRequest struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url"`
	Description string `json:"description"`
	Context     string `json:"context"`
}

// maxStatusesPerContext is GitHub's limit of statuses per commit and context.
const maxStatusesPerContext = 1000

// createStatus records a commit status as GitHub does: the commit must exist (by hash or
// ref), the state must be one GitHub knows, and the context defaults to "default".
func (s *Server) createStatus(w http.ResponseWriter, req *http.Request, owner, name, ref string) {
	var body statusRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if !slices.Contains([]string{"error", "failure", "pending", "success"}, body.State) {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed",
			fieldError{Resource: "Status", Code: "custom", Field: "state", Message: "state is not included in the list"})
		return
	}
	if body.Context == "" {
		body.Context = "default"
	}
	s.withRepo(w, owner, name, func(r *repository) {
		sha, err := s.opts.Git.Resolve(r.gitName(), ref)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref)
			return
		}
		n := 0
		for _, st := range r.statuses[sha] {
			if st.Context == body.Context {
				n++
			}
		}
		if n >= maxStatusesPerContext {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed",
				fieldError{Resource: "Status", Code: "custom", Message: "This SHA and context has reached the maximum number of statuses."})
			return
		}
		s.nextID++
		now := time.Now().UTC().Truncate(time.Second)
		st := CommitStatus{ID: s.nextID, State: body.State, Description: body.Description, TargetURL: body.TargetURL,
			Context: body.Context, CreatedAt: now, UpdatedAt: now,
			URL: fmt.Sprintf("%srepos/%s/statuses/%s", s.APIURL(), r.gitName(), sha)}
		if r.statuses == nil {
			r.statuses = map[string][]CommitStatus{}
		}
		// Newest first, as GitHub lists them.
		r.statuses[sha] = append([]CommitStatus{st}, r.statuses[sha]...)
		writeJSON(w, http.StatusCreated, st)
	})
}

// listStatuses answers GET /repos/{owner}/{repo}/commits/{ref}/statuses, newest first.
func (s *Server) listStatuses(w http.ResponseWriter, who caller, owner, name, ref string) {
	s.withRepo(w, owner, name, func(r *repository) {
		if r.private && who != authenticated {
			writeError(w, http.StatusNotFound, "Not Found")
			return
		}
		sha, err := s.opts.Git.Resolve(r.gitName(), ref)
		if err != nil {
			writeError(w, http.StatusNotFound, "No commit found for SHA: "+ref)
			return
		}
		out := append([]CommitStatus{}, r.statuses[sha]...)
		writeJSON(w, http.StatusOK, out)
	})
}

// Statuses returns the statuses set on a commit of a repository, newest first.
func (s *Server) Statuses(owner, name, sha string) []CommitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return nil
	}
	return append([]CommitStatus(nil), r.statuses[sha]...)
}
