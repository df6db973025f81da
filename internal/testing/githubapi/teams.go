package githubapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// teamPermissions are the permissions a team can be given on a repository.
var teamPermissions = []string{"pull", "triage", "push", "maintain", "admin"}

func (s *Server) listTeams(w http.ResponseWriter, owner, name string) {
	s.withRepo(w, owner, name, func(r *repository) {
		docs := []map[string]any{}
		for slug, perm := range r.teams {
			docs = append(docs, map[string]any{"slug": slug, "name": slug, "permission": perm})
		}
		writeJSON(w, http.StatusOK, docs)
	})
}

// grantTeam is PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}: the team must be one
// of Options.Teams and the repository owned by the organisation.
func (s *Server) grantTeam(w http.ResponseWriter, req *http.Request, org, team, owner, name string) {
	var body struct {
		Permission string `json:"permission"`
	}
	if req.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	if body.Permission == "" {
		body.Permission = "push"
	}
	if !slices.Contains(teamPermissions, body.Permission) {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed",
			fieldError{Resource: "Team", Code: "invalid", Field: "permission"})
		return
	}
	if !s.isOrg(org) || !strings.EqualFold(org, owner) || !slices.Contains(s.opts.Teams, team) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	s.withRepo(w, owner, name, func(r *repository) {
		r.teams[team] = body.Permission
		w.WriteHeader(http.StatusNoContent)
	})
}
