package provider

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// GitHub is GitHub's REST API (v3): github.com's at api.github.com, GitHub Enterprise's at
// <host>/api/v3.
type GitHub struct{ api }

// NewGitHub returns a client for hostname ("github.com" or an Enterprise host[:port]) that
// trusts caCert in addition to the system roots.
func NewGitHub(hostname, token string, caCert []byte) (*GitHub, error) {
	base, err := baseURL("--hostname", hostname, "api/v3")
	if err != nil {
		return nil, err
	}
	if hostname == "github.com" {
		base = "https://api.github.com/"
	}
	hc, err := newHTTPClient(caCert)
	if err != nil {
		return nil, err
	}
	return &GitHub{api{name: "GitHub", base: base, token: token, http: hc, message: jsonMessage,
		auth: func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("Accept", "application/vnd.github+json")
		}}}, nil
}

func (g *GitHub) Name() string { return "GitHub" }

func (g *GitHub) GitCredentials() (string, string) { return "git", g.token }

type githubRepo struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Owner    struct {
		Login string `json:"login"`
	} `json:"owner"`
	Private       bool   `json:"private"`
	Visibility    string `json:"visibility"`
	Archived      bool   `json:"archived"`
	HTMLURL       string `json:"html_url"`
	CloneURL      string `json:"clone_url"`
	SSHURL        string `json:"ssh_url"`
	DefaultBranch string `json:"default_branch"`
}

func (r githubRepo) repository() *Repository {
	v := r.Visibility
	if v == "" {
		v = Public
		if r.Private {
			v = Private
		}
	}
	return &Repository{Owner: r.Owner.Login, Name: r.Name, WebURL: r.HTMLURL, CloneURL: r.CloneURL, SSHURL: r.SSHURL,
		DefaultBranch: r.DefaultBranch, Visibility: v, Archived: r.Archived}
}

func repoPath(owner, name string) string { return "repos/" + escape(owner) + "/" + escape(name) }

func (g *GitHub) GetRepository(ctx context.Context, owner, name string, _ bool) (*Repository, error) {
	var r githubRepo
	if err := g.do(ctx, http.MethodGet, repoPath(owner, name), nil, &r); err != nil {
		return nil, err
	}
	return r.repository(), nil
}

// CreateRepository creates the repository with an initial commit (auto_init), under the
// user (Personal) or an organisation.
func (g *GitHub) CreateRepository(ctx context.Context, spec RepositorySpec) (*Repository, error) {
	p := "orgs/" + escape(spec.Owner) + "/repos"
	if spec.Personal {
		p = "user/repos"
	}
	in := map[string]any{"name": spec.Name, "private": spec.Visibility != Public, "auto_init": true, "description": spec.Description}
	if spec.Visibility == Internal {
		in["visibility"] = Internal
	}
	var r githubRepo
	if err := g.do(ctx, http.MethodPost, p, in, &r); err != nil {
		return nil, err
	}
	return r.repository(), nil
}

func (g *GitHub) SetVisibility(ctx context.Context, repo *Repository, visibility string) error {
	in := map[string]any{"private": visibility != Public}
	if visibility == Internal {
		in["visibility"] = Internal
	}
	return g.do(ctx, http.MethodPatch, repoPath(repo.Owner, repo.Name), in, nil)
}

type githubKey struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Key      string `json:"key"`
	ReadOnly bool   `json:"read_only"`
}

func (g *GitHub) DeployKeys(ctx context.Context, repo *Repository) ([]DeployKey, error) {
	var keys []githubKey
	if err := g.do(ctx, http.MethodGet, repoPath(repo.Owner, repo.Name)+"/keys?per_page=100", nil, &keys); err != nil {
		return nil, err
	}
	out := make([]DeployKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, DeployKey{ID: strconv.FormatInt(k.ID, 10), Title: k.Title, Key: k.Key, ReadOnly: k.ReadOnly})
	}
	return out, nil
}

func (g *GitHub) AddDeployKey(ctx context.Context, repo *Repository, key DeployKey) error {
	in := map[string]any{"title": key.Title, "key": key.Key, "read_only": key.ReadOnly}
	return g.do(ctx, http.MethodPost, repoPath(repo.Owner, repo.Name)+"/keys", in, nil)
}

func (g *GitHub) DeleteDeployKey(ctx context.Context, repo *Repository, id string) error {
	return g.do(ctx, http.MethodDelete, repoPath(repo.Owner, repo.Name)+"/keys/"+escape(id), nil, nil)
}

// GrantTeam gives an organisation team (by slug) a permission: pull, triage, push,
// maintain (the default) or admin.
func (g *GitHub) GrantTeam(ctx context.Context, repo *Repository, access TeamAccess) (bool, error) {
	perm := access.Permission
	if perm == "" {
		perm = "maintain"
	}
	var teams []struct {
		Slug       string `json:"slug"`
		Permission string `json:"permission"`
	}
	if err := g.do(ctx, http.MethodGet, repoPath(repo.Owner, repo.Name)+"/teams?per_page=100", nil, &teams); err != nil {
		return false, err
	}
	for _, t := range teams {
		if t.Slug == access.Team && t.Permission == perm {
			return false, nil
		}
	}
	p := fmt.Sprintf("orgs/%s/teams/%s/repos/%s/%s", escape(repo.Owner), escape(access.Team), escape(repo.Owner), escape(repo.Name))
	return true, g.do(ctx, http.MethodPut, p, map[string]any{"permission": perm}, nil)
}
