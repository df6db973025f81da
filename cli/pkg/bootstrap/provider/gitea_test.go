package provider

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/internal/testing/gitea"
)

// TestGitea runs the Gitea client against a real Gitea.
func TestGitea(t *testing.T) {
	srv := gitea.New(t, gitea.Options{})
	ctx := context.Background()
	if err := srv.CreateOrg(ctx, "fleet"); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateTeam(ctx, "fleet", "ops"); err != nil {
		t.Fatal(err)
	}
	api, err := NewGitea(srv.Host(), srv.Token(), srv.CACert())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.GetRepository(ctx, "fleet", "infra", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing repository: %v", err)
	}
	bad, _ := NewGitea(srv.Host(), "0123456789abcdef", srv.CACert())
	if _, err := bad.GetRepository(ctx, "fleet", "infra", false); StatusOf(err) != 401 || strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := api.CreateRepository(ctx, RepositorySpec{Owner: "nobody", Name: "infra", Visibility: Private}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown org: %v", err)
	}
	repo, err := api.CreateRepository(ctx, RepositorySpec{Owner: "fleet", Name: "infra", Visibility: Private, DefaultBranch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if repo.CloneURL != srv.URL()+"/fleet/infra.git" || repo.Visibility != Private || repo.SSHURL == "" || repo.DefaultBranch != "main" {
		t.Errorf("created %+v", repo)
	}
	if err := api.SetVisibility(ctx, repo, Public); err != nil {
		t.Fatal(err)
	}
	if got, _ := api.GetRepository(ctx, "fleet", "infra", false); got == nil || got.Visibility != Public {
		t.Errorf("after SetVisibility: %+v", got)
	}
	for i, want := range []bool{true, false} {
		changed, err := api.GrantTeam(ctx, repo, TeamAccess{Team: "ops"})
		if err != nil || changed != want {
			t.Errorf("GrantTeam #%d: changed=%v err=%v", i, changed, err)
		}
	}
	if _, err := api.GrantTeam(ctx, repo, TeamAccess{Team: "nope"}); StatusOf(err) != 404 {
		t.Errorf("unknown team: %v", err)
	}
	kp, _ := sshkey.Options{Algorithm: "ed25519"}.Generate()
	key := DeployKey{Title: "flux", Key: strings.TrimSpace(string(kp.Public)), ReadOnly: true}
	if err := api.AddDeployKey(ctx, repo, key); err != nil {
		t.Fatal(err)
	}
	keys, err := api.DeployKeys(ctx, repo)
	if err != nil || len(keys) != 1 || !SameKey(keys[0].Key, key.Key) || !keys[0].ReadOnly {
		t.Fatalf("keys %+v %v", keys, err)
	}
	if err := api.DeleteDeployKey(ctx, repo, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.Archive(ctx, "fleet", "infra"); err != nil {
		t.Fatal(err)
	}
	if got, _ := api.GetRepository(ctx, "fleet", "infra", false); got == nil || !got.Archived {
		t.Errorf("archived: %+v", got)
	}
}
