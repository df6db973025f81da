package notifier

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// bitbucketServerStatus sets a Bitbucket Server / Data Center build status
// (POST /rest/api/latest/projects/{key}/repos/{slug}/commits/{sha}/builds). The address is the
// HTTPS clone URL (`https://host[/context]/scm/<project>/<repo>.git`). A token authenticates
// as a bearer HTTP access token, otherwise username/password as basic auth.
type bitbucketServerStatus struct {
	*commitStatus
	api, user, pass string
}

func newBitbucketServerStatus(o *Options) (Notifier, error) {
	c, err := newCommitStatus(o, false)
	if err != nil {
		return nil, err
	}
	if o.Token == "" && (o.Username == "" || o.Password == "") {
		return nil, permanent("the Secret must hold a 'token', or a 'password' with a username")
	}
	segs := strings.Split(c.repo.path, "/")
	var prefix []string
	for len(segs) > 0 && segs[0] != "scm" && segs[0] != "projects" {
		prefix, segs = append(prefix, segs[0]), segs[1:]
	}
	var project, repo string
	switch {
	case len(segs) == 3 && segs[0] == "scm":
		project, repo = segs[1], segs[2]
	case len(segs) == 4 && segs[0] == "projects" && segs[2] == "repos":
		project, repo = segs[1], segs[3]
	default:
		return nil, permanent("the address must be an HTTPS clone URL ending in /scm/<project>/<repository>.git")
	}
	base := c.repo.baseURL()
	if len(prefix) > 0 {
		base += "/" + strings.Join(prefix, "/")
	}
	return &bitbucketServerStatus{commitStatus: c, user: o.Username, pass: o.Password,
		api: base + "/rest/api/latest/projects/" + url.PathEscape(project) + "/repos/" + url.PathEscape(repo)}, nil
}

type bitbucketServerBuild struct {
	Key         string `json:"key"`
	State       string `json:"state"`
	Name        string `json:"name"`
	Description string `json:"description"`
	URL         string `json:"url"`
}

func (b *bitbucketServerStatus) auth(r request) request {
	if b.token != "" {
		r.header = http.Header{"Authorization": {"Bearer " + b.token}}
	} else {
		r.basicAuth, r.basicUser, r.basicPass = true, b.user, b.pass
	}
	r.header = mergeHeader(r.header, http.Header{"X-Atlassian-Token": {"no-check"}})
	return r
}

func mergeHeader(a, b http.Header) http.Header {
	if a == nil {
		a = http.Header{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

func (b *bitbucketServerStatus) Post(ctx context.Context, ev eventv1.Event) error {
	sha, id, desc, err := b.prepare(&ev)
	if err != nil {
		return err
	}
	state := "SUCCESSFUL"
	if isError(&ev) {
		state = "FAILED"
	}
	endpoint := b.api + "/commits/" + sha + "/builds"
	want := bitbucketServerBuild{Key: id, State: state, Name: id, Description: desc, URL: b.repo.String()}
	if body, err := b.do(ctx, b.auth(request{method: http.MethodGet, url: endpoint + "?key=" + url.QueryEscape(id)})); err == nil {
		var existing bitbucketServerBuild
		if json.Unmarshal(body, &existing) == nil && existing.State == state && existing.Description == desc {
			return nil
		}
	}
	_, err = b.do(ctx, b.auth(request{url: endpoint, body: want}))
	return err
}
