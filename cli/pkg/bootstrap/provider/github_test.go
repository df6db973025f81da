package provider

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/internal/testing/githubapi"
	"gotk.dev/internal/testing/gitserver"
)

// TestGitHub runs the GitHub client against the GitHub-compatible test server.
func TestGitHub(t *testing.T) {
	const token = "ghp_client0123456789"
	srv := githubapi.New(t, githubapi.Options{Token: token, Orgs: []string{"fleet"},
		Git: gitserver.New(t, gitserver.Options{})})
	ctx := context.Background()
	api, err := NewGitHub(srv.Host(), token, srv.CACert())
	if err != nil {
		t.Fatal(err)
	}

	if _, err := api.GetRepository(ctx, "fleet", "infra", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing repository: %v", err)
	}
	bad, _ := NewGitHub(srv.Host(), "ghp_wrong_token_value", srv.CACert())
	_, err = bad.GetRepository(ctx, "fleet", "infra", false)
	if StatusOf(err) != 401 || !strings.Contains(err.Error(), "401 Bad credentials") || strings.Contains(err.Error(), "ghp_wrong_token_value") {
		t.Errorf("wrong token: %v", err)
	}
	untrusted, _ := NewGitHub(srv.Host(), token, nil)
	if _, err := untrusted.GetRepository(ctx, "fleet", "infra", false); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without --ca-file: %v", err)
	}
	if _, err := NewGitHub("example.com/path", token, nil); err == nil {
		t.Error("a hostname with a path was accepted")
	}

	repo, err := api.CreateRepository(ctx, RepositorySpec{Owner: "fleet", Name: "infra", Visibility: Private})
	if err != nil {
		t.Fatal(err)
	}
	if repo.CloneURL != srv.URL()+"/fleet/infra.git" || repo.Visibility != Private || repo.DefaultBranch != "main" {
		t.Errorf("created %+v", repo)
	}
	if _, err := api.CreateRepository(ctx, RepositorySpec{Owner: "nobody", Name: "infra", Visibility: Private}); !errors.Is(err, ErrNotFound) {
		t.Errorf("create in an unknown org: %v", err)
	}
	if _, err := api.CreateRepository(ctx, RepositorySpec{Owner: githubapi.DefaultLogin, Name: "mine", Personal: true, Visibility: Public}); err != nil {
		t.Errorf("personal: %v", err)
	}

	kp, err := sshkey.Options{Algorithm: "ed25519"}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	key := DeployKey{Title: "flux", Key: strings.TrimSpace(string(kp.Public)), ReadOnly: true}
	if err := api.AddDeployKey(ctx, repo, key); err != nil {
		t.Fatal(err)
	}
	keys, err := api.DeployKeys(ctx, repo)
	if err != nil || len(keys) != 1 || !SameKey(keys[0].Key, key.Key) || !keys[0].ReadOnly || keys[0].Title != "flux" {
		t.Fatalf("deploy keys = %+v, %v", keys, err)
	}
	if err := api.DeleteDeployKey(ctx, repo, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := srv.Repository("fleet", "infra"); len(r.DeployKeys) != 0 {
		t.Errorf("deploy keys after delete = %+v", r.DeployKeys)
	}
}
