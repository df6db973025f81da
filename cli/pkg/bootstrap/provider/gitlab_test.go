package provider

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/internal/testing/gitlabapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/git"
)

// TestGitLab runs the GitLab client against the GitLab-compatible test server.
func TestGitLab(t *testing.T) {
	const token = "glpat-client0123456789"
	srv := gitlabapi.New(t, gitlabapi.Options{Token: token, Groups: []string{"fleet", "ops"}, Git: gitserver.New(t, gitserver.Options{})})
	ctx := context.Background()
	api, err := NewGitLab(srv.Host(), token, srv.CACert())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.GetRepository(ctx, "fleet", "infra", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing project: %v", err)
	}
	bad, _ := NewGitLab("https://"+srv.Host(), "glpat-wrong", srv.CACert())
	if _, err := bad.GetRepository(ctx, "fleet", "infra", false); StatusOf(err) != 401 || !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := api.CreateRepository(ctx, RepositorySpec{Owner: "nobody", Name: "infra", Visibility: Private}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown group: %v", err)
	}
	repo, err := api.CreateRepository(ctx, RepositorySpec{Owner: "fleet", Name: "infra", Visibility: Internal, DefaultBranch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if repo.CloneURL != srv.URL()+"/fleet/infra.git" || repo.Visibility != Internal || repo.ID == "" || repo.Owner != "fleet" {
		t.Errorf("created %+v", repo)
	}
	if _, err := api.CreateRepository(ctx, RepositorySpec{Owner: "fleet", Name: "infra", Visibility: Private}); StatusOf(err) != 400 || !strings.Contains(err.Error(), "has already been taken") {
		t.Errorf("taken: %v", err)
	}
	if mine, err := api.CreateRepository(ctx, RepositorySpec{Owner: gitlabapi.DefaultUsername, Name: "mine", Personal: true, Visibility: Public}); err != nil || mine.Owner != gitlabapi.DefaultUsername {
		t.Errorf("personal: %+v %v", mine, err)
	}
	if err := api.SetVisibility(ctx, repo, Private); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if changed, err := api.GrantTeam(ctx, repo, TeamAccess{Team: "ops"}); err != nil || changed != want {
			t.Errorf("GrantTeam #%d: %v %v", i, changed, err)
		}
	}
	if changed, err := api.GrantTeam(ctx, repo, TeamAccess{Team: "ops", Permission: "developer"}); err != nil || !changed {
		t.Errorf("GrantTeam developer: %v %v", changed, err)
	}
	if _, err := api.GrantTeam(ctx, repo, TeamAccess{Team: "ops", Permission: "root"}); err == nil {
		t.Error("an unknown access level was accepted")
	}
	p, _ := srv.Project("fleet", "infra")
	if p.Visibility != Private || p.Shares["ops"] != 30 {
		t.Errorf("project %+v", p)
	}

	kp, _ := sshkey.Options{Algorithm: "ed25519"}.Generate()
	key := DeployKey{Title: "flux", Key: strings.TrimSpace(string(kp.Public)), ReadOnly: false}
	if err := api.AddDeployKey(ctx, repo, key); err != nil {
		t.Fatal(err)
	}
	if keys, err := api.DeployKeys(ctx, repo); err != nil || len(keys) != 1 || keys[0].ReadOnly || !SameKey(keys[0].Key, key.Key) {
		t.Fatalf("keys %+v %v", keys, err)
	}

	// A deploy token reads the repository over HTTPS; a second one of the same name
	// replaces the first.
	user, tok, _, err := api.NewDeployToken(ctx, repo, "flux")
	if err != nil || !strings.HasPrefix(user, "gitlab+deploy-token-") || tok == "" {
		t.Fatalf("deploy token %q %v", user, err)
	}
	user2, tok2, _, err := api.NewDeployToken(ctx, repo, "flux")
	if err != nil || tok2 == tok {
		t.Fatalf("second deploy token: %v", err)
	}
	if p, _ := srv.Project("fleet", "infra"); len(p.DeployTokens) != 1 {
		t.Errorf("tokens %+v", p.DeployTokens)
	}
	u, _ := url.Parse(repo.CloneURL)
	c := git.NewClient(git.ClientOptions{})
	for _, tt := range []struct {
		user, pass string
		ok         bool
	}{{user2, tok2, true}, {user, tok, false}, {"oauth2", token, true}} {
		auth, err := git.NewAuthOptions(u, map[string][]byte{git.KeyUsername: []byte(tt.user), git.KeyPassword: []byte(tt.pass), git.KeyCACert: srv.CACert()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListRefs(ctx, repo.CloneURL, auth); (err == nil) != tt.ok {
			t.Errorf("list refs as %s: %v (want ok=%v)", tt.user, err, tt.ok)
		}
	}
}
