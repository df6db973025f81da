package notifier

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// githubAPI is the REST base of a repository host: api.github.com for github.com, and
// `<host>/api/v3` for GitHub Enterprise Server.
func githubAPI(r repoAddress) string {
	if strings.EqualFold(r.host, "github.com") {
		return "https://api.github.com"
	}
	return r.baseURL() + "/api/v3"
}

func githubHeaders(token string) http.Header {
	return http.Header{
		"Authorization":        {"Bearer " + token},
		"Accept":               {"application/vnd.github+json"},
		"X-Github-Api-Version": {"2022-11-28"},
	}
}

// githubStatus sets a commit status (POST /repos/{owner}/{repo}/statuses/{sha}); a status
// identical to the newest one of the same context is not posted again.
type githubStatus struct {
	*commitStatus
	owner, name string
}

func newGitHubStatus(o *Options) (Notifier, error) {
	c, err := newCommitStatus(o, true)
	if err != nil {
		return nil, err
	}
	owner, repo, err := c.repo.ownerRepo()
	if err != nil {
		return nil, err
	}
	return &githubStatus{commitStatus: c, owner: owner, name: repo}, nil
}

type githubStatusBody struct {
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
}

func (g *githubStatus) Post(ctx context.Context, ev eventv1.Event) error {
	sha, id, desc, err := g.prepare(&ev)
	if err != nil {
		return err
	}
	state := "success"
	if isError(&ev) {
		state = "failure"
	}
	if len(desc) > 140 { // GitHub's limit
		desc = desc[:137] + "..."
	}
	api := githubAPI(g.repo) + "/repos/" + url.PathEscape(g.owner) + "/" + url.PathEscape(g.name)
	want := githubStatusBody{State: state, Context: id, Description: desc}
	// The newest status of each context comes first.
	if body, err := g.do(ctx, request{method: http.MethodGet, url: api + "/commits/" + sha + "/statuses?per_page=100", header: githubHeaders(g.token)}); err == nil {
		var existing []githubStatusBody
		if json.Unmarshal(body, &existing) == nil {
			for _, s := range existing {
				if s.Context == id {
					if s == want {
						return nil
					}
					break
				}
			}
		}
	}
	return g.postJSON(ctx, api+"/statuses/"+sha, want, githubHeaders(g.token))
}

// githubDispatch triggers a repository_dispatch event whose type is `<Kind>/<name>.<namespace>`
// and whose client_payload is the Flux event.
type githubDispatch struct {
	*httpSender
	endpoint, token string
}

func newGitHubDispatch(o *Options) (Notifier, error) {
	repo, err := parseRepoAddress(o.Address)
	if err != nil {
		return nil, err
	}
	owner, name, err := repo.ownerRepo()
	if err != nil {
		return nil, err
	}
	if o.Token == "" {
		return nil, permanent("the Secret must hold a 'token'")
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &githubDispatch{httpSender: s, token: o.Token,
		endpoint: githubAPI(repo) + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/dispatches"}, nil
}

func (g *githubDispatch) Post(ctx context.Context, ev eventv1.Event) error {
	o := ev.InvolvedObject
	body := map[string]any{
		"event_type":     o.Kind + "/" + o.Name + "." + o.Namespace,
		"client_payload": ev,
	}
	return g.postJSON(ctx, g.endpoint, body, githubHeaders(g.token))
}
