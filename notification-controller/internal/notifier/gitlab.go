package notifier

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// gitlabStatus sets a commit status (POST /api/v4/projects/:id/statuses/:sha). The project is
// the address path (`group/project`) or a numeric project ID. GitLab refuses to repeat a state
// transition, so a status identical to an existing one is not posted again.
type gitlabStatus struct {
	*commitStatus
	api string
}

func newGitLabStatus(o *Options) (Notifier, error) {
	c, err := newCommitStatus(o, true)
	if err != nil {
		return nil, err
	}
	return &gitlabStatus{commitStatus: c, api: c.repo.baseURL() + "/api/v4/projects/" + url.PathEscape(c.repo.path)}, nil
}

type gitlabStatusBody struct {
	State       string `json:"state"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (g *gitlabStatus) Post(ctx context.Context, ev eventv1.Event) error {
	sha, id, desc, err := g.prepare(&ev)
	if err != nil {
		return err
	}
	state := "success"
	if isError(&ev) {
		state = "failed"
	}
	h := http.Header{"Private-Token": {g.token}}
	want := gitlabStatusBody{State: state, Name: id, Description: desc}
	list := g.api + "/repository/commits/" + sha + "/statuses?name=" + url.QueryEscape(id)
	if body, err := g.do(ctx, request{method: http.MethodGet, url: list, header: h}); err == nil {
		var existing []struct {
			Status      string `json:"status"`
			Name        string `json:"name"`
			Description string `json:"description"`
		}
		if json.Unmarshal(body, &existing) == nil {
			for _, s := range existing {
				if s.Name == id && s.Status == state && s.Description == desc {
					return nil
				}
			}
		}
	}
	return g.postJSON(ctx, g.api+"/statuses/"+sha, want, h)
}
