package provider

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/internal/testing/bitbucketapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/git"
)

// TestBitbucketServer runs the Bitbucket Server client against the compatible test server.
func TestBitbucketServer(t *testing.T) {
	const token = "BBDC-client0123456789"
	srv := bitbucketapi.New(t, bitbucketapi.Options{Token: token, Projects: []string{"FLEET"}, Groups: []string{"ops"},
		Git: gitserver.New(t, gitserver.Options{})})
	ctx := context.Background()
	api, err := NewBitbucketServer(srv.Host(), bitbucketapi.DefaultUsername, token, srv.CACert())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.GetRepository(ctx, "FLEET", "infra", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing repository: %v", err)
	}
	bad, _ := NewBitbucketServer(srv.Host(), bitbucketapi.DefaultUsername, "wrong", srv.CACert())
	if _, err := bad.GetRepository(ctx, "FLEET", "infra", false); StatusOf(err) != 401 || !strings.Contains(err.Error(), "Authentication failed") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := api.CreateRepository(ctx, RepositorySpec{Owner: "NOPE", Name: "infra", Visibility: Private}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "Project NOPE does not exist") {
		t.Errorf("unknown project: %v", err)
	}
	repo, err := api.CreateRepository(ctx, RepositorySpec{Owner: "FLEET", Name: "infra", Visibility: Private})
	if err != nil {
		t.Fatal(err)
	}
	if repo.CloneURL != srv.URL()+"/scm/fleet/infra.git" || repo.Visibility != Private || repo.Owner != "FLEET" {
		t.Errorf("created %+v", repo)
	}
	mine, err := api.CreateRepository(ctx, RepositorySpec{Owner: bitbucketapi.DefaultUsername, Name: "mine", Personal: true, Visibility: Public})
	if err != nil || mine.Visibility != Public {
		t.Fatalf("personal: %+v %v", mine, err)
	}
	if got, err := api.GetRepository(ctx, bitbucketapi.DefaultUsername, "mine", true); err != nil || got.CloneURL != mine.CloneURL {
		t.Errorf("personal lookup: %+v %v", got, err)
	}
	if err := api.SetVisibility(ctx, repo, Public); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if changed, err := api.GrantTeam(ctx, repo, TeamAccess{Team: "ops"}); err != nil || changed != want {
			t.Errorf("GrantTeam #%d: %v %v", i, changed, err)
		}
	}
	if _, err := api.GrantTeam(ctx, repo, TeamAccess{Team: "nobody"}); StatusOf(err) != 404 {
		t.Errorf("unknown group: %v", err)
	}
	r, _ := srv.Repository("FLEET", "infra")
	if !r.Public || r.Groups["ops"] != "REPO_WRITE" {
		t.Errorf("repository %+v", r)
	}
	kp, _ := sshkey.Options{Algorithm: "ed25519"}.Generate()
	key := DeployKey{Title: "flux", Key: strings.TrimSpace(string(kp.Public)), ReadOnly: true}
	if err := api.AddDeployKey(ctx, repo, key); err != nil {
		t.Fatal(err)
	}
	keys, err := api.DeployKeys(ctx, repo)
	if err != nil || len(keys) != 1 || !keys[0].ReadOnly || keys[0].Title != "flux" || !SameKey(keys[0].Key, key.Key) {
		t.Fatalf("keys %+v %v", keys, err)
	}
	if err := api.DeleteDeployKey(ctx, repo, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(repo.CloneURL)
	user, pass := api.GitCredentials()
	auth, _ := git.NewAuthOptions(u, map[string][]byte{git.KeyUsername: []byte(user), git.KeyPassword: []byte(pass), git.KeyCACert: srv.CACert()})
	// The repository is empty: the server answering so proves the credentials work.
	if _, err := git.NewClient(git.ClientOptions{}).ListRefs(ctx, repo.CloneURL, auth); !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		t.Errorf("git over https: %v", err)
	}
	auth, _ = git.NewAuthOptions(u, map[string][]byte{git.KeyUsername: []byte(user), git.KeyPassword: []byte("wrong"), git.KeyCACert: srv.CACert()})
	if _, err := git.NewClient(git.ClientOptions{}).ListRefs(ctx, repo.CloneURL, auth); err == nil || errors.Is(err, transport.ErrEmptyRemoteRepository) {
		t.Errorf("git over https with a wrong token: %v", err)
	}
}
