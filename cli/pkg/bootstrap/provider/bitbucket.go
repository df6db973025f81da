package provider

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// BitbucketServer is Bitbucket Server's (Data Center's) REST API: repositories under
// <host>/rest/api/1.0, access keys under <host>/rest/keys/1.0. It authenticates with the
// user name and an HTTP access token (basic auth), or the token alone (bearer).
type BitbucketServer struct {
	api
	username string
	keys     string // the access keys API base
}

// NewBitbucketServer returns a client for hostname (host[:port], or a URL with its scheme)
// that trusts caCert in addition to the system roots.
func NewBitbucketServer(hostname, username, token string, caCert []byte) (*BitbucketServer, error) {
	base, err := baseURL("--hostname", hostname, "rest/api/1.0")
	if err != nil {
		return nil, err
	}
	keys, _ := baseURL("--hostname", hostname, "rest/keys/1.0")
	hc, err := newHTTPClient(caCert)
	if err != nil {
		return nil, err
	}
	b := &BitbucketServer{username: username, keys: keys}
	b.api = api{name: "Bitbucket Server", base: base, token: token, http: hc, message: jsonMessage,
		auth: func(r *http.Request) {
			if username != "" {
				r.SetBasicAuth(username, token)
				return
			}
			r.Header.Set("Authorization", "Bearer "+token)
		}}
	return b, nil
}

func (b *BitbucketServer) Name() string { return "Bitbucket Server" }

func (b *BitbucketServer) GitCredentials() (string, string) { return b.username, b.token }

// projectKey is the project a repository lives in: the owner, or ~<user> for --personal.
func projectKey(owner string, personal bool) string {
	if personal {
		return "~" + owner
	}
	return owner
}

// slugPattern is what Bitbucket Server drops when it derives a slug from a name.
var slugPattern = regexp.MustCompile(`[^a-z0-9_.-]+`)

// slug is the repository slug Bitbucket Server derives from a name.
func slug(name string) string {
	return strings.Trim(slugPattern.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

type bitbucketRepo struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Project struct {
		Key string `json:"key"`
	} `json:"project"`
	Public   bool `json:"public"`
	Archived bool `json:"archived"`
	Links    struct {
		Clone []struct {
			Href string `json:"href"`
			Name string `json:"name"`
		} `json:"clone"`
		Self []struct {
			Href string `json:"href"`
		} `json:"self"`
	} `json:"links"`
}

func (r bitbucketRepo) repository() *Repository {
	out := &Repository{Owner: r.Project.Key, Name: r.Slug, ID: r.Project.Key + "/" + r.Slug, Visibility: Private, Archived: r.Archived}
	if r.Public {
		out.Visibility = Public
	}
	for _, c := range r.Links.Clone {
		switch c.Name {
		case "http", "https":
			out.CloneURL = c.Href
		case "ssh":
			out.SSHURL = c.Href
		}
	}
	if len(r.Links.Self) > 0 {
		out.WebURL = r.Links.Self[0].Href
	}
	// Bitbucket puts the user in the HTTP clone URL; the credentials go elsewhere.
	if u, err := url.Parse(out.CloneURL); err == nil && u.User != nil {
		u.User = nil
		out.CloneURL = u.String()
	}
	return out
}

// bitbucketRepoPath is projects/<key>/repos/<slug> of a Repository's ID.
func bitbucketRepoPath(repo *Repository) string {
	key, s, _ := strings.Cut(repo.ID, "/")
	return "projects/" + escape(key) + "/repos/" + escape(s)
}

func (b *BitbucketServer) GetRepository(ctx context.Context, owner, name string, personal bool) (*Repository, error) {
	var r bitbucketRepo
	p := "projects/" + escape(projectKey(owner, personal)) + "/repos/" + escape(slug(name))
	if err := b.do(ctx, http.MethodGet, p, nil, &r); err != nil {
		return nil, err
	}
	return r.repository(), nil
}

// CreateRepository creates an empty repository in the project (or the user's personal
// project); bootstrap's first commit starts the branch.
func (b *BitbucketServer) CreateRepository(ctx context.Context, spec RepositorySpec) (*Repository, error) {
	in := map[string]any{"name": spec.Name, "scmId": "git", "public": spec.Visibility == Public, "description": spec.Description}
	if spec.DefaultBranch != "" {
		in["defaultBranch"] = spec.DefaultBranch
	}
	var r bitbucketRepo
	if err := b.do(ctx, http.MethodPost, "projects/"+escape(projectKey(spec.Owner, spec.Personal))+"/repos", in, &r); err != nil {
		return nil, err
	}
	return r.repository(), nil
}

func (b *BitbucketServer) SetVisibility(ctx context.Context, repo *Repository, visibility string) error {
	return b.do(ctx, http.MethodPut, bitbucketRepoPath(repo), map[string]any{"public": visibility == Public}, nil)
}

type bitbucketAccessKey struct {
	Key struct {
		ID    int64  `json:"id"`
		Text  string `json:"text"`
		Label string `json:"label"`
	} `json:"key"`
	Permission string `json:"permission"`
}

func (b *BitbucketServer) DeployKeys(ctx context.Context, repo *Repository) ([]DeployKey, error) {
	var page struct {
		Values []bitbucketAccessKey `json:"values"`
	}
	if err := b.do(ctx, http.MethodGet, b.keys+bitbucketRepoPath(repo)+"/ssh?limit=100", nil, &page); err != nil {
		return nil, err
	}
	out := make([]DeployKey, 0, len(page.Values))
	for _, k := range page.Values {
		out = append(out, DeployKey{ID: strconv.FormatInt(k.Key.ID, 10), Title: k.Key.Label, Key: k.Key.Text, ReadOnly: k.Permission != "REPO_WRITE"})
	}
	return out, nil
}

func (b *BitbucketServer) AddDeployKey(ctx context.Context, repo *Repository, key DeployKey) error {
	perm := "REPO_READ"
	if !key.ReadOnly {
		perm = "REPO_WRITE"
	}
	in := map[string]any{"key": map[string]any{"text": key.Key, "label": key.Title}, "permission": perm}
	return b.do(ctx, http.MethodPost, b.keys+bitbucketRepoPath(repo)+"/ssh", in, nil)
}

func (b *BitbucketServer) DeleteDeployKey(ctx context.Context, repo *Repository, id string) error {
	return b.do(ctx, http.MethodDelete, b.keys+bitbucketRepoPath(repo)+"/ssh/"+escape(id), nil, nil)
}

// bitbucketPermissions are Bitbucket Server's repository permissions by the words flux
// users give.
var bitbucketPermissions = map[string]string{"pull": "REPO_READ", "read": "REPO_READ", "push": "REPO_WRITE", "write": "REPO_WRITE", "admin": "REPO_ADMIN"}

// GrantTeam gives a group a repository permission: pull, push (the default) or admin.
func (b *BitbucketServer) GrantTeam(ctx context.Context, repo *Repository, access TeamAccess) (bool, error) {
	word := access.Permission
	if word == "" {
		word = "push"
	}
	perm, ok := bitbucketPermissions[word]
	if !ok {
		perm = strings.ToUpper(word)
	}
	var page struct {
		Values []struct {
			Group struct {
				Name string `json:"name"`
			} `json:"group"`
			Permission string `json:"permission"`
		} `json:"values"`
	}
	p := bitbucketRepoPath(repo) + "/permissions/groups"
	if err := b.do(ctx, http.MethodGet, p+"?filter="+url.QueryEscape(access.Team), nil, &page); err != nil {
		return false, err
	}
	for _, v := range page.Values {
		if v.Group.Name == access.Team && v.Permission == perm {
			return false, nil
		}
	}
	q := url.Values{"permission": {perm}, "name": {access.Team}}
	return true, b.do(ctx, http.MethodPut, p+"?"+q.Encode(), nil, nil)
}
