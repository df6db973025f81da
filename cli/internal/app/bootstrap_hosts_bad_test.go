package app

import (
	"context"
	"strings"
	"testing"

	"gotk.dev/internal/testing/bitbucketapi"
	"gotk.dev/internal/testing/githubapi"
	"gotk.dev/internal/testing/gitlabapi"
)

// testHostBadInput runs each Git host with a wrong token, an unknown owner, an unreachable
// host and an archived repository: each fails with exit code 1 and a message saying what to
// do, and leaves no repository, commit or namespace behind.
func (b *bootstrapEnv) testHostBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const good = "tok-right-0123456789"
	gh := githubapi.New(t, githubapi.Options{Token: good, Orgs: []string{"fleet"}, Git: b.env.Git})
	gl := gitlabapi.New(t, gitlabapi.Options{Token: good, Groups: []string{"fleet"}, Git: b.env.Git})
	bb := bitbucketapi.New(t, bitbucketapi.Options{Token: good, Username: "bot", Projects: []string{"FLEET"}, Git: b.env.Git})
	if err := gh.CreateRepository("fleet", "old", true); err != nil {
		t.Fatal(err)
	}
	gh.Archive("fleet", "old")
	if err := gl.CreateProject("fleet", "old", "private"); err != nil {
		t.Fatal(err)
	}
	gl.Archive("fleet", "old")
	if err := bb.CreateRepository("FLEET", "old", false); err != nil {
		t.Fatal(err)
	}
	bb.Archive("FLEET", "old")
	if err := b.gitea.CreateOrg(ctx, "bad"); err != nil {
		t.Fatal(err)
	}
	if err := b.gitea.CreateRepo(ctx, "bad", "old", true); err != nil {
		t.Fatal(err)
	}
	if err := b.gitea.Archive(ctx, "bad", "old"); err != nil {
		t.Fatal(err)
	}
	closed := "127.0.0.1:" + closedPort(t)

	hosts := []struct {
		name, host, ca, owner, product, env, goodToken string
		extra                                          []string
	}{
		{"github", gh.Host(), writeCA(t, gh.CACert()), "fleet", "GitHub", "GITHUB_TOKEN", good, nil},
		{"gitlab", gl.Host(), writeCA(t, gl.CACert()), "fleet", "GitLab", "GITLAB_TOKEN", good, nil},
		{"gitea", b.gitea.Host(), writeCA(t, b.gitea.CACert()), "bad", "Gitea", "GITEA_TOKEN", b.gitea.Token(), nil},
		{"bitbucket-server", bb.Host(), writeCA(t, bb.CACert()), "FLEET", "Bitbucket Server", "BITBUCKET_TOKEN", good, []string{"--username=bot"}},
	}
	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) {
			cases := []struct {
				name, token, owner, repo, host string
				want                           []string
			}{
				{"wrong token", "tok-wrong-0000000000", h.owner, "new", h.host,
					[]string{h.product + " refused the token: check that $" + h.env + " holds a valid personal access token"}},
				{"unknown owner", h.goodToken, "nobody", "new", h.host,
					[]string{"failed to create new Git repository", "owner \"nobody\" not found on " + h.product + ": check --owner, and pass --personal when it is a user account"}},
				{"host unreachable", h.goodToken, h.owner, "new", closed,
					[]string{"cannot reach the " + h.product + " API at https://" + closed + "/", "check --hostname and that " + closed + " is reachable from here"}},
				{"archived repository", h.goodToken, h.owner, "old", h.host,
					[]string{"is archived and cannot be pushed to: unarchive it on " + h.product + ", or bootstrap into another --repository"}},
			}
			for _, c := range cases {
				args := append([]string{h.name, "--owner=" + c.owner, "--repository=" + c.repo, "--hostname=" + c.host, "--ca-file=" + h.ca,
					"-n", "flux-hostbad", "--path=clusters/bad"}, h.extra...)
				r := b.run(t, c.token+"\n", args...)
				if r.code != 1 {
					t.Errorf("%s: exit %d, want 1", c.name, r.code)
				}
				wants(t, c.name, r.stderr, append([]string{"✗ "}, c.want...)...)
				if strings.Contains(r.stderr+r.stdout, c.token) {
					t.Errorf("%s: the token was printed", c.name)
				}
				if strings.Contains(r.stderr, "created") || strings.Contains(r.stderr, "left in place") {
					t.Errorf("%s: something was created:\n%s", c.name, r.stderr)
				}
			}
		})
	}
	if bootstrapGetObject(t, b.env.Client, "v1", "Namespace", "", "flux-hostbad") != nil {
		t.Error("a failed bootstrap created the namespace")
	}
	if _, ok := gh.Repository("fleet", "new"); ok {
		t.Error("a GitHub repository was created")
	}
	if _, ok := gl.Project("fleet", "new"); ok {
		t.Error("a GitLab project was created")
	}
	if _, ok := bb.Repository("FLEET", "new"); ok {
		t.Error("a Bitbucket repository was created")
	}
}
