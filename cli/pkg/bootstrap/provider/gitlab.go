package provider

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// GitLab is GitLab's REST API (v4) at <host>/api/v4, authenticated with a personal,
// group or project access token.
type GitLab struct{ api }

// NewGitLab returns a client for hostname (gitlab.com, a self-managed host[:port], or a
// URL with its scheme) that trusts caCert in addition to the system roots.
func NewGitLab(hostname, token string, caCert []byte) (*GitLab, error) {
	base, err := baseURL("--hostname", hostname, "api/v4")
	if err != nil {
		return nil, err
	}
	hc, err := newHTTPClient(caCert)
	if err != nil {
		return nil, err
	}
	return &GitLab{api{name: "GitLab", base: base, token: token, http: hc, message: jsonMessage,
		auth: func(r *http.Request) { r.Header.Set("PRIVATE-TOKEN", token) }}}, nil
}

func (g *GitLab) Name() string { return "GitLab" }

// GitCredentials: GitLab takes any user name with a token as the password.
func (g *GitLab) GitCredentials() (string, string) { return "oauth2", g.token }

type gitlabProject struct {
	ID                int64  `json:"id"`
	Path              string `json:"path"`
	PathWithNamespace string `json:"path_with_namespace"`
	Namespace         struct {
		FullPath string `json:"full_path"`
	} `json:"namespace"`
	WebURL        string `json:"web_url"`
	HTTPURL       string `json:"http_url_to_repo"`
	SSHURL        string `json:"ssh_url_to_repo"`
	DefaultBranch string `json:"default_branch"`
	Visibility    string `json:"visibility"`
	Archived      bool   `json:"archived"`
	SharedWith    []struct {
		GroupID     int64 `json:"group_id"`
		AccessLevel int   `json:"group_access_level"`
	} `json:"shared_with_groups"`
}

func (p gitlabProject) repository() *Repository {
	return &Repository{Owner: p.Namespace.FullPath, Name: p.Path, ID: strconv.FormatInt(p.ID, 10), WebURL: p.WebURL,
		CloneURL: p.HTTPURL, SSHURL: p.SSHURL, DefaultBranch: p.DefaultBranch, Visibility: p.Visibility, Archived: p.Archived}
}

func projectPath(repo *Repository) string { return "projects/" + escape(repo.ID) }

func (g *GitLab) GetRepository(ctx context.Context, owner, name string, _ bool) (*Repository, error) {
	var p gitlabProject
	if err := g.do(ctx, http.MethodGet, "projects/"+escape(owner+"/"+name), nil, &p); err != nil {
		return nil, err
	}
	return p.repository(), nil
}

// CreateRepository creates the project with a README (so the default branch exists) in the
// token user's namespace (Personal) or in the group named Owner.
func (g *GitLab) CreateRepository(ctx context.Context, spec RepositorySpec) (*Repository, error) {
	in := map[string]any{"name": spec.Name, "path": spec.Name, "visibility": spec.Visibility,
		"initialize_with_readme": true, "description": spec.Description}
	if spec.DefaultBranch != "" {
		in["default_branch"] = spec.DefaultBranch
	}
	if !spec.Personal {
		var group struct {
			ID int64 `json:"id"`
		}
		if err := g.do(ctx, http.MethodGet, "groups/"+escape(spec.Owner), nil, &group); err != nil {
			return nil, err
		}
		in["namespace_id"] = group.ID
	}
	var p gitlabProject
	if err := g.do(ctx, http.MethodPost, "projects", in, &p); err != nil {
		return nil, err
	}
	return p.repository(), nil
}

func (g *GitLab) SetVisibility(ctx context.Context, repo *Repository, visibility string) error {
	return g.do(ctx, http.MethodPut, projectPath(repo), map[string]any{"visibility": visibility}, nil)
}

type gitlabKey struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Key     string `json:"key"`
	CanPush bool   `json:"can_push"`
}

func (g *GitLab) DeployKeys(ctx context.Context, repo *Repository) ([]DeployKey, error) {
	var keys []gitlabKey
	if err := g.do(ctx, http.MethodGet, projectPath(repo)+"/deploy_keys?per_page=100", nil, &keys); err != nil {
		return nil, err
	}
	out := make([]DeployKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, DeployKey{ID: strconv.FormatInt(k.ID, 10), Title: k.Title, Key: k.Key, ReadOnly: !k.CanPush})
	}
	return out, nil
}

func (g *GitLab) AddDeployKey(ctx context.Context, repo *Repository, key DeployKey) error {
	in := map[string]any{"title": key.Title, "key": key.Key, "can_push": !key.ReadOnly}
	return g.do(ctx, http.MethodPost, projectPath(repo)+"/deploy_keys", in, nil)
}

func (g *GitLab) DeleteDeployKey(ctx context.Context, repo *Repository, id string) error {
	return g.do(ctx, http.MethodDelete, projectPath(repo)+"/deploy_keys/"+escape(id), nil, nil)
}

// gitlabAccessLevels are GitLab's access levels by the words flux users give.
var gitlabAccessLevels = map[string]int{"guest": 10, "reporter": 20, "developer": 30, "maintain": 40, "maintainer": 40, "owner": 50}

// GrantTeam shares the project with a group (by full path) at an access level: guest,
// reporter, developer, maintain (the default) or owner.
func (g *GitLab) GrantTeam(ctx context.Context, repo *Repository, access TeamAccess) (bool, error) {
	perm := access.Permission
	if perm == "" {
		perm = "maintain"
	}
	level, ok := gitlabAccessLevels[perm]
	if !ok {
		return false, fmt.Errorf("invalid access level %q for group %s: want guest, reporter, developer, maintain or owner", perm, access.Team)
	}
	var group struct {
		ID int64 `json:"id"`
	}
	if err := g.do(ctx, http.MethodGet, "groups/"+escape(access.Team), nil, &group); err != nil {
		return false, err
	}
	var p gitlabProject
	if err := g.do(ctx, http.MethodGet, projectPath(repo), nil, &p); err != nil {
		return false, err
	}
	for _, s := range p.SharedWith {
		if s.GroupID != group.ID {
			continue
		}
		if s.AccessLevel == level {
			return false, nil
		}
		if err := g.do(ctx, http.MethodDelete, fmt.Sprintf("%s/share/%d", projectPath(repo), group.ID), nil, nil); err != nil {
			return false, err
		}
	}
	return true, g.do(ctx, http.MethodPost, projectPath(repo)+"/share", map[string]any{"group_id": group.ID, "group_access": level}, nil)
}

type gitlabDeployToken struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
	Token    string `json:"token"`
	Revoked  bool   `json:"revoked"`
}

// NewDeployToken creates a read_repository deploy token named name, revoking earlier ones
// of that name (their value cannot be read again).
func (g *GitLab) NewDeployToken(ctx context.Context, repo *Repository, name string) (string, string, string, error) {
	var tokens []gitlabDeployToken
	if err := g.do(ctx, http.MethodGet, projectPath(repo)+"/deploy_tokens?per_page=100", nil, &tokens); err != nil {
		return "", "", "", err
	}
	for _, t := range tokens {
		if t.Name == name && !t.Revoked {
			if err := g.DeleteDeployToken(ctx, repo, strconv.FormatInt(t.ID, 10)); err != nil {
				return "", "", "", err
			}
		}
	}
	var t gitlabDeployToken
	in := map[string]any{"name": name, "scopes": []string{"read_repository"}}
	if err := g.do(ctx, http.MethodPost, projectPath(repo)+"/deploy_tokens", in, &t); err != nil {
		return "", "", "", err
	}
	return t.Username, t.Token, strconv.FormatInt(t.ID, 10), nil
}

func (g *GitLab) DeleteDeployToken(ctx context.Context, repo *Repository, id string) error {
	return g.do(ctx, http.MethodDelete, projectPath(repo)+"/deploy_tokens/"+escape(id), nil, nil)
}
