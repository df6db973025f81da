package app

import (
	"context"
	"strings"
	"testing"

	"gotk.dev/internal/testing/githubapi"
	"gotk.dev/internal/testing/gitserver"
)

// TestBootstrapGitHubAPI runs the GitHub client against the GitHub-compatible test server.
func TestBootstrapGitHubAPI(t *testing.T) {
	const token = "ghp_client0123456789"
	srv := githubapi.New(t, githubapi.Options{Token: token, Orgs: []string{"fleet"},
		Git: gitserver.New(t, gitserver.Options{})})
	ctx := context.Background()
	api, err := newBootstrapGitHubAPI(srv.Host(), token, srv.CACert())
	if err != nil {
		t.Fatal(err)
	}

	if _, err := api.getRepo(ctx, "fleet", "infra"); !isGitHubNotFound(err) {
		t.Fatalf("missing repository: %v", err)
	}
	bad, _ := newBootstrapGitHubAPI(srv.Host(), "ghp_wrong_token_value", srv.CACert())
	_, err = bad.getRepo(ctx, "fleet", "infra")
	if err == nil || !strings.Contains(err.Error(), "401 Bad credentials") || strings.Contains(err.Error(), "ghp_wrong_token_value") {
		t.Errorf("wrong token: %v", err)
	}
	untrusted, _ := newBootstrapGitHubAPI(srv.Host(), token, nil)
	if _, err := untrusted.getRepo(ctx, "fleet", "infra"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without --ca-file: %v", err)
	}
	if _, err := newBootstrapGitHubAPI("example.com/path", token, nil); err == nil {
		t.Error("a hostname with a path was accepted")
	}

	repo, err := api.createRepo(ctx, "fleet", "infra", false, true)
	if err != nil {
		t.Fatal(err)
	}
	if repo.CloneURL != srv.URL()+"/fleet/infra.git" || !repo.Private || repo.DefaultBranch != "main" {
		t.Errorf("created %+v", repo)
	}
	if _, err := api.createRepo(ctx, "nobody", "infra", false, true); !isGitHubNotFound(err) {
		t.Errorf("create in an unknown org: %v", err)
	}
	if _, err := api.createRepo(ctx, githubapi.DefaultLogin, "mine", true, false); err != nil {
		t.Errorf("personal: %v", err)
	}

	f := bootstrapGitHubFlags{owner: "fleet", repository: "infra"}
	kp, err := sshKeyFlags{algorithm: "ed25519"}.generate()
	public := kp.public
	if err != nil {
		t.Fatal(err)
	}
	want := bootstrapDeployKey{Title: "flux-system-main-flux-system-./clusters/dev", Key: string(public), ReadOnly: true}
	steps := []struct {
		name        string
		readOnly    bool
		wantChanged bool
	}{
		{"add", true, true},
		{"unchanged", true, false},
		{"read-write replaces it", false, true},
	}
	for _, s := range steps {
		want.ReadOnly = s.readOnly
		changed, err := f.reconcileDeployKey(ctx, api, want)
		if err != nil || changed != s.wantChanged {
			t.Errorf("%s: changed=%v err=%v", s.name, changed, err)
		}
	}
	r, _ := srv.Repository("fleet", "infra")
	if len(r.DeployKeys) != 1 || r.DeployKeys[0].ReadOnly || !sameBootstrapAuthorizedKey(r.DeployKeys[0].Key, string(public)) {
		t.Errorf("deploy keys = %+v", r.DeployKeys)
	}
}
