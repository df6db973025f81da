package provider

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// Gitea is Gitea's REST API (v1) at <host>/api/v1, authenticated with a personal access
// token.
type Gitea struct{ api }

// NewGitea returns a client for hostname (host[:port], or a URL with its scheme) that
// trusts caCert in addition to the system roots.
func NewGitea(hostname, token string, caCert []byte) (*Gitea, error) {
	base, err := baseURL("--hostname", hostname, "api/v1")
	if err != nil {
		return nil, err
	}
	hc, err := newHTTPClient(caCert)
	if err != nil {
		return nil, err
	}
	return &Gitea{api{name: "Gitea", base: base, token: token, http: hc, message: jsonMessage,
		auth: func(r *http.Request) { r.Header.Set("Authorization", "token "+token) }}}, nil
}

func (g *Gitea) Name() string { return "Gitea" }

func (g *Gitea) GitCredentials() (string, string) { return "git", g.token }

type giteaRepo struct {
	Name  string `json:"name"`
	Owner struct {
		Login string `json:"login"`
	} `json:"owner"`
	Private       bool   `json:"private"`
	Archived      bool   `json:"archived"`
	HTMLURL       string `json:"html_url"`
	CloneURL      string `json:"clone_url"`
	SSHURL        string `json:"ssh_url"`
	DefaultBranch string `json:"default_branch"`
	Empty         bool   `json:"empty"`
}

func (r giteaRepo) repository() *Repository {
	v := Public
	if r.Private {
		v = Private
	}
	return &Repository{Owner: r.Owner.Login, Name: r.Name, WebURL: r.HTMLURL, CloneURL: r.CloneURL, SSHURL: r.SSHURL,
		DefaultBranch: r.DefaultBranch, Visibility: v, Archived: r.Archived}
}

func (g *Gitea) GetRepository(ctx context.Context, owner, name string, _ bool) (*Repository, error) {
	var r giteaRepo
	if err := g.do(ctx, http.MethodGet, repoPath(owner, name), nil, &r); err != nil {
		return nil, err
	}
	return r.repository(), nil
}

// CreateRepository creates the repository with an initial commit (auto_init) under the
// token's user (Personal) or an organisation.
func (g *Gitea) CreateRepository(ctx context.Context, spec RepositorySpec) (*Repository, error) {
	p := "orgs/" + escape(spec.Owner) + "/repos"
	if spec.Personal {
		p = "user/repos"
	}
	in := map[string]any{"name": spec.Name, "private": spec.Visibility != Public, "auto_init": true, "description": spec.Description}
	if spec.DefaultBranch != "" {
		in["default_branch"] = spec.DefaultBranch
	}
	var r giteaRepo
	if err := g.do(ctx, http.MethodPost, p, in, &r); err != nil {
		return nil, err
	}
	return r.repository(), nil
}

func (g *Gitea) SetVisibility(ctx context.Context, repo *Repository, visibility string) error {
	return g.do(ctx, http.MethodPatch, repoPath(repo.Owner, repo.Name), map[string]any{"private": visibility != Public}, nil)
}

func (g *Gitea) DeployKeys(ctx context.Context, repo *Repository) ([]DeployKey, error) {
	var keys []githubKey // same document as GitHub's
	if err := g.do(ctx, http.MethodGet, repoPath(repo.Owner, repo.Name)+"/keys?limit=50", nil, &keys); err != nil {
		return nil, err
	}
	out := make([]DeployKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, DeployKey{ID: strconv.FormatInt(k.ID, 10), Title: k.Title, Key: k.Key, ReadOnly: k.ReadOnly})
	}
	return out, nil
}

func (g *Gitea) AddDeployKey(ctx context.Context, repo *Repository, key DeployKey) error {
	in := map[string]any{"title": key.Title, "key": key.Key, "read_only": key.ReadOnly}
	return g.do(ctx, http.MethodPost, repoPath(repo.Owner, repo.Name)+"/keys", in, nil)
}

func (g *Gitea) DeleteDeployKey(ctx context.Context, repo *Repository, id string) error {
	return g.do(ctx, http.MethodDelete, repoPath(repo.Owner, repo.Name)+"/keys/"+escape(id), nil, nil)
}

// GrantTeam adds an organisation team to the repository. Gitea sets the access level on
// the team itself, so the permission word is not sent.
func (g *Gitea) GrantTeam(ctx context.Context, repo *Repository, access TeamAccess) (bool, error) {
	var teams []struct {
		Name string `json:"name"`
	}
	if err := g.do(ctx, http.MethodGet, repoPath(repo.Owner, repo.Name)+"/teams", nil, &teams); err != nil {
		return false, err
	}
	for _, t := range teams {
		if strings.EqualFold(t.Name, access.Team) {
			return false, nil
		}
	}
	return true, g.do(ctx, http.MethodPut, repoPath(repo.Owner, repo.Name)+"/teams/"+escape(access.Team), nil, nil)
}
