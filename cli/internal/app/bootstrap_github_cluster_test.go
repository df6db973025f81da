package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/internal/testing/githubapi"
)

func (b *bootstrapEnv) testGitHubTokenAuth(t *testing.T) {
	t.Parallel()
	const token = "ghp_personalTokenAuth0123"
	api := githubapi.New(t, githubapi.Options{Token: token, Git: b.env.Git})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, api.CACert(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := b.run(t, token+"\n", "github", "--owner="+githubapi.DefaultLogin, "--repository=personal", "--personal", "--private=false",
		"--token-auth", "--hostname="+api.Host(), "--ca-file="+ca, "--path=clusters/p", "-n", "flux-ghp",
		"--components=source-controller,kustomize-controller")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if strings.Contains(r.stderr+r.stdout, token) || strings.Contains(r.stderr, "public key") {
		t.Errorf("printed the token or made a key:\n%s", r.stderr)
	}
	repo, ok := api.Repository(githubapi.DefaultLogin, "personal")
	if !ok || repo.Private || len(repo.DeployKeys) != 0 {
		t.Errorf("repository %+v", repo)
	}
	secret := bootstrapGetObject(t, b.env.Client, "v1", "Secret", "flux-ghp", "flux-system")
	if secret == nil || len(secret.Object["data"].(map[string]any)) != 3 { // username, password, ca.crt
		t.Errorf("secret %v", secret)
	}
	h, err := b.env.Git.Resolve(githubapi.DefaultLogin+"/personal", "main")
	if err != nil {
		t.Fatal(err)
	}
	// The cluster fetches over HTTPS with the token, trusting --ca-file.
	b.wantSynced(t, "flux-ghp", "main@sha1:"+h)
}

func (b *bootstrapEnv) testGitHub(t *testing.T) {
	t.Parallel()
	const token = "ghp_bootstrapTestToken0123"
	api := githubapi.New(t, githubapi.Options{Token: token, Orgs: []string{"fleet"}, Teams: []string{"ops"}, Git: b.env.Git, SSH: b.env.GitSSH})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, api.CACert(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"github", "--owner=fleet", "--repository=gh", "--hostname=" + api.Host(), "--ca-file=" + ca,
		"--path=clusters/gh", "-n", "flux-gh", "--team=ops:admin"}

	t.Run("a wrong token is refused before anything is pushed", func(t *testing.T) {
		r := b.run(t, "ghp_wrongToken999\n", args...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1", r.code)
		}
		wants(t, "stderr", r.stderr, "► connecting to "+api.Host(),
			"✗ failed to get Git repository \"https://"+api.Host()+"/fleet/gh\": GET https://"+api.Host()+"/api/v3/repos/fleet/gh: 401 Bad credentials")
		if strings.Contains(r.stderr+r.stdout, "ghp_wrongToken999") {
			t.Error("the token was printed")
		}
		if _, ok := api.Repository("fleet", "gh"); ok {
			t.Error("a repository was created")
		}
		for _, c := range api.Calls() {
			if c.Method != "GET" {
				t.Errorf("unexpected call %s", c)
			}
		}
		if bootstrapGetObject(t, b.env.Client, "v1", "Namespace", "", "flux-gh") != nil {
			t.Error("the namespace was created")
		}
	})

	r := b.run(t, token+"\n", args...)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	title := "flux-gh-main-flux-system-./clusters/gh"
	bootstrapWantsInOrder(t, r.stderr, "► connecting to "+api.Host(), "✔ repository \"https://"+api.Host()+"/fleet/gh\" created",
		"► cloning branch \"main\" from Git repository \""+api.URL()+"/fleet/gh.git\"", "✔ cloned repository",
		"✔ public key: ecdsa-sha2-nistp384 ", "✔ configured deploy key \""+title+"\" for \"https://"+api.Host()+"/fleet/gh\"",
		"✔ reconciled source secret", "✔ GitRepository reconciled successfully", "✔ all components are healthy")
	if strings.Contains(r.stderr+r.stdout, token) {
		t.Error("the token was printed")
	}
	if strings.Contains(r.stderr, "Please give the key access") {
		t.Error("asked to give the deploy key access")
	}
	repo, ok := api.Repository("fleet", "gh")
	if !ok || !repo.Private || len(repo.DeployKeys) != 1 || repo.DeployKeys[0].Title != title || !repo.DeployKeys[0].ReadOnly || repo.Teams["ops"] != "admin" {
		t.Fatalf("repository %+v", repo)
	}
	// The README of the created repository is kept: bootstrap committed on top of it.
	if bootstrapRepoFileAt(t, b.env.Git.Repos, "fleet/gh", "main", "README.md") == "" {
		t.Error("the initial commit is gone")
	}
	h, err := b.env.Git.Resolve("fleet/gh", "main")
	if err != nil {
		t.Fatal(err)
	}
	b.wantSynced(t, "flux-gh", "main@sha1:"+h)
	if repoObj := bootstrapGetObject(t, b.env.Client, "source.toolkit.fluxcd.io/v1", "GitRepository", "flux-gh", "flux-gh"); repoObj != nil {
		if u, _, _ := unstructured.NestedString(repoObj.Object, "spec", "url"); u != b.env.GitSSH.RepoURL("fleet/gh") {
			t.Errorf("GitRepository url %q", u)
		}
	}

	t.Run("a rerun reuses the repository and the deploy key", func(t *testing.T) {
		r := b.run(t, token+"\n", args...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if strings.Contains(r.stderr, "created") || strings.Contains(r.stderr, "configured deploy key") || strings.Contains(r.stderr, "granted team") {
			t.Errorf("rerun created something:\n%s", r.stderr)
		}
		if repo, _ := api.Repository("fleet", "gh"); len(repo.DeployKeys) != 1 {
			t.Errorf("deploy keys %+v", repo.DeployKeys)
		}
	})
}
