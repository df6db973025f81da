package notifier

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

const azureDevOpsGenre = "fluxcd"

// azureDevOpsStatus sets a Git commit status
// (POST {org}/{project}/_apis/git/repositories/{repo}/commits/{sha}/statuses), with the PAT as
// basic auth password. The address is `https://dev.azure.com/<org>/<project>/_git/<repo>` (or
// an Azure DevOps Server collection URL).
type azureDevOpsStatus struct {
	*commitStatus
	api string
}

func newAzureDevOpsStatus(o *Options) (Notifier, error) {
	c, err := newCommitStatus(o, true)
	if err != nil {
		return nil, err
	}
	segs := strings.Split(c.repo.path, "/")
	gitAt := -1
	for i, s := range segs {
		if s == "_git" {
			gitAt = i
		}
	}
	if gitAt < 2 || gitAt != len(segs)-2 {
		return nil, permanent("the address must be https://<host>/<organization>/<project>/_git/<repository>")
	}
	api := c.repo.baseURL() + "/" + strings.Join(segs[:gitAt], "/") + "/_apis/git/repositories/" + url.PathEscape(segs[gitAt+1])
	return &azureDevOpsStatus{commitStatus: c, api: api}, nil
}

type azureStatus struct {
	State       string `json:"state"`
	Description string `json:"description"`
	Context     struct {
		Name  string `json:"name"`
		Genre string `json:"genre"`
	} `json:"context"`
}

func (a *azureDevOpsStatus) Post(ctx context.Context, ev eventv1.Event) error {
	sha, id, desc, err := a.prepare(&ev)
	if err != nil {
		return err
	}
	state := "succeeded"
	if isError(&ev) {
		state = "failed"
	}
	var want azureStatus
	want.State, want.Description = state, desc
	want.Context.Name, want.Context.Genre = id, azureDevOpsGenre
	endpoint := a.api + "/commits/" + sha + "/statuses?api-version=6.0"
	req := func(method string, body any) request {
		return request{method: method, url: endpoint, body: body, basicAuth: true, basicPass: a.token}
	}
	if body, err := a.do(ctx, req(http.MethodGet, nil)); err == nil {
		var existing struct {
			Value []azureStatus `json:"value"`
		}
		if json.Unmarshal(body, &existing) == nil {
			for _, s := range existing.Value {
				if s == want {
					return nil
				}
			}
		}
	}
	_, err = a.do(ctx, req(http.MethodPost, want))
	return err
}
