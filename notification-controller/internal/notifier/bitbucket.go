package notifier

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// bitbucketStatus sets a Bitbucket Cloud build status
// (POST /2.0/repositories/{workspace}/{repo}/commit/{sha}/statuses/build), authenticating
// with the token `<username>:<app-password>`.
type bitbucketStatus struct {
	*commitStatus
	api, user, pass string
}

func newBitbucketStatus(o *Options) (Notifier, error) {
	c, err := newCommitStatus(o, true)
	if err != nil {
		return nil, err
	}
	user, pass, ok := strings.Cut(o.Token, ":")
	if !ok || user == "" || pass == "" {
		return nil, permanent("the Secret's 'token' must be <username>:<app-password>")
	}
	owner, repo, err := c.repo.ownerRepo()
	if err != nil {
		return nil, err
	}
	base := c.repo.baseURL()
	if strings.EqualFold(c.repo.host, "bitbucket.org") {
		base = "https://api.bitbucket.org"
	}
	return &bitbucketStatus{commitStatus: c, user: user, pass: pass,
		api: base + "/2.0/repositories/" + url.PathEscape(owner) + "/" + url.PathEscape(repo)}, nil
}

// bitbucketKey fits the status ID into Bitbucket's 40-character key.
func bitbucketKey(id string) string {
	if len(id) <= 40 {
		return id
	}
	sum := sha1.Sum([]byte(id))
	return hex.EncodeToString(sum[:])
}

func (b *bitbucketStatus) Post(ctx context.Context, ev eventv1.Event) error {
	sha, id, desc, err := b.prepare(&ev)
	if err != nil {
		return err
	}
	state := "SUCCESSFUL"
	if isError(&ev) {
		state = "FAILED"
	}
	body := map[string]string{"state": state, "key": bitbucketKey(id), "name": id,
		"description": desc, "url": b.repo.String()}
	_, err = b.do(ctx, request{url: b.api + "/commit/" + sha + "/statuses/build", body: body,
		basicAuth: true, basicUser: b.user, basicPass: b.pass})
	return err
}
