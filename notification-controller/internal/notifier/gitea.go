package notifier

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// giteaStatus sets a commit status (POST /api/v1/repos/{owner}/{repo}/statuses/{sha}),
// skipping a status identical to the newest one of the same context.
type giteaStatus struct {
	*commitStatus
	api string
}

func newGiteaStatus(o *Options) (Notifier, error) {
	c, err := newCommitStatus(o, true)
	if err != nil {
		return nil, err
	}
	owner, repo, err := c.repo.ownerRepo()
	if err != nil {
		return nil, err
	}
	return &giteaStatus{commitStatus: c, api: c.repo.baseURL() + "/api/v1/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo)}, nil
}

type giteaStatusBody struct {
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
}

func (g *giteaStatus) Post(ctx context.Context, ev eventv1.Event) error {
	sha, id, desc, err := g.prepare(&ev)
	if err != nil {
		return err
	}
	state := "success"
	if isError(&ev) {
		state = "failure"
	}
	h := http.Header{"Authorization": {"token " + g.token}}
	want := giteaStatusBody{State: state, Context: id, Description: desc}
	if body, err := g.do(ctx, request{method: http.MethodGet, url: g.api + "/commits/" + sha + "/statuses?sort=newest", header: h}); err == nil {
		var existing []giteaStatusBody
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
	return g.postJSON(ctx, g.api+"/statuses/"+sha, want, h)
}
