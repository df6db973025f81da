package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"gotk.dev/internal/testing/gitserver"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"gotk.dev/internal/testing/bitbucketapi"
	"gotk.dev/internal/testing/gitlabapi"
)

// bootstrapHostCase is one Git host's bootstrap journey: first run, rerun, user patch and
// upgrade, against the host's API in front of a real Git server.
type bootstrapHostCase struct {
	token string
	// args are the provider's arguments (owner, repository, hostname, --ca-file, ...).
	args []string
	ns   string
	// gitDir is the bare repository on disk; branch the one bootstrap commits to.
	gitDir, branch string
	// commitFile commits a file to the branch as the user would.
	commitFile func(path, content string) error
	// afterFirst checks what the host holds after the first run (keys, teams).
	afterFirst func(t *testing.T, stderr string)
	// deployKey says whether the first run registers a deploy key.
	deployKey bool
}

// bareFile reads a file of a branch of the bare repository at dir ("" when missing).
func bareFile(t *testing.T, dir, branch, path string) string {
	t.Helper()
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatalf("%s branch %s: %v", dir, branch, err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	f, err := commit.File(path)
	if err != nil {
		return ""
	}
	s, _ := f.Contents()
	return s
}

// bareHead is the commit a branch of the bare repository at dir points at.
func bareHead(t *testing.T, dir, branch string) string {
	t.Helper()
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatalf("%s branch %s: %v", dir, branch, err)
	}
	return ref.Hash().String()
}

const bootstrapUserPatch = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - gotk-components.yaml
  - gotk-sync.yaml
patches:
  - target:
      kind: Deployment
      name: kustomize-controller
    patch: |
      - op: add
        path: /metadata/labels/team
        value: platform
`

// runHost runs the journey of one host.
func (b *bootstrapEnv) runHost(t *testing.T, hc bootstrapHostCase) {
	args := append(append([]string{}, hc.args...), "-n", hc.ns, "--path=clusters/"+hc.ns,
		"--components=source-controller,kustomize-controller")
	r := b.run(t, hc.token+"\n", args...)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if strings.Contains(r.stderr+r.stdout, hc.token) {
		t.Error("the token was printed")
	}
	wants(t, "stderr", r.stderr, "repository \"", "\" created", "✔ all components are healthy")
	if hc.deployKey != strings.Contains(r.stderr, "✔ configured deploy key") {
		t.Errorf("deploy key configured: %v, want %v", !hc.deployKey, hc.deployKey)
	}
	hc.afterFirst(t, r.stderr)
	first := bareHead(t, hc.gitDir, hc.branch)
	b.wantSynced(t, hc.ns, hc.branch+"@sha1:"+first)

	t.Run("a rerun creates and commits nothing", func(t *testing.T) {
		r := b.run(t, hc.token+"\n", args...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		for _, no := range []string{"created", "configured deploy key", "granted team", "committed"} {
			if strings.Contains(r.stderr, no) {
				t.Errorf("the rerun printed %q:\n%s", no, r.stderr)
			}
		}
		if h := bareHead(t, hc.gitDir, hc.branch); h != first {
			t.Errorf("new commit %s", h)
		}
	})

	t.Run("an upgrade keeps the user's patch", func(t *testing.T) {
		file := "clusters/" + hc.ns + "/" + hc.ns + "/kustomization.yaml"
		if err := hc.commitFile(file, bootstrapUserPatch); err != nil {
			t.Fatal(err)
		}
		r := b.run(t, hc.token+"\n", append(args, "--version=v9.9.9")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if got := bareFile(t, hc.gitDir, hc.branch, file); got != bootstrapUserPatch {
			t.Errorf("kustomization.yaml changed:\n%s", got)
		}
		components := bareFile(t, hc.gitDir, hc.branch, "clusters/"+hc.ns+"/"+hc.ns+"/gotk-components.yaml")
		wants(t, "gotk-components.yaml", components, "# Flux Version: v9.9.9\n")
		b.wantSynced(t, hc.ns, hc.branch+"@sha1:"+bareHead(t, hc.gitDir, hc.branch))
		d := bootstrapGetObject(t, b.env.Client, "apps/v1", "Deployment", hc.ns, "kustomize-controller")
		if d == nil || d.GetLabels()["team"] != "platform" {
			t.Errorf("kustomize-controller Deployment lacks the user's label: %v", d)
		}
	})
}

func writeCA(t *testing.T, pem []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (b *bootstrapEnv) testGitLab(t *testing.T) {
	t.Parallel()
	const token = "glpat-bootstrapTest0123"
	api := gitlabapi.New(t, gitlabapi.Options{Token: token, Groups: []string{"fleet", "ops"}, Git: b.env.Git, SSH: b.env.GitSSH})
	b.runHost(t, bootstrapHostCase{
		token: token, ns: "flux-gl", branch: "main", gitDir: b.env.Git.Repos.Path("fleet/gl"), deployKey: true,
		args: []string{"gitlab", "--owner=fleet", "--repository=gl", "--hostname=" + api.Host(), "--ca-file=" + writeCA(t, api.CACert()),
			"--team=ops:developer", "--read-write-key"},
		commitFile: func(path, content string) error {
			_, err := b.env.Git.Commit("fleet/gl").Branch("main").File(path, content).Message("patch").Do()
			return err
		},
		afterFirst: func(t *testing.T, stderr string) {
			p, ok := api.Project("fleet", "gl")
			if !ok || p.Visibility != "private" || len(p.DeployKeys) != 1 || !p.DeployKeys[0].CanPush || p.Shares["ops"] != 30 {
				t.Errorf("project %+v", p)
			}
			wants(t, "stderr", stderr, "✔ granted team \"ops\" access to")
		},
	})
}

func (b *bootstrapEnv) testGitLabDeployToken(t *testing.T) {
	t.Parallel()
	const token = "glpat-deployToken0123"
	api := gitlabapi.New(t, gitlabapi.Options{Token: token, Git: b.env.Git})
	r := b.run(t, token+"\n", "gitlab", "--owner="+gitlabapi.DefaultUsername, "--repository=gl-token", "--personal", "--deploy-token-auth",
		"--hostname="+api.Host(), "--ca-file="+writeCA(t, api.CACert()), "-n", "flux-gltok", "--path=clusters/tok",
		"--components=source-controller,kustomize-controller")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	wants(t, "stderr", r.stderr, "✔ created deploy token \"flux-flux-gltok-flux-system\"", "✔ all components are healthy")
	p, _ := api.Project(gitlabapi.DefaultUsername, "gl-token")
	if len(p.DeployTokens) != 1 || len(p.DeployKeys) != 0 {
		t.Fatalf("project %+v", p)
	}
	secret := bootstrapGetObject(t, b.env.Client, "v1", "Secret", "flux-gltok", "flux-system")
	if secret == nil || !strings.Contains(decodeData(secret, "username"), "gitlab+deploy-token-") || decodeData(secret, "password") == token {
		t.Errorf("secret does not hold the deploy token: %v", secret != nil)
	}
	// The cluster fetches with the deploy token.
	b.wantSynced(t, "flux-gltok", "main@sha1:"+bareHead(t, b.env.Git.Repos.Path(gitlabapi.DefaultUsername+"/gl-token"), "main"))
}

func (b *bootstrapEnv) testBitbucket(t *testing.T) {
	t.Parallel()
	const token = "BBDC-bootstrapTest0123"
	api := bitbucketapi.New(t, bitbucketapi.Options{Token: token, Username: "flux-bot", Projects: []string{"FLEET"}, Groups: []string{"ops"},
		Git: b.env.Git, SSH: b.env.GitSSH})
	b.runHost(t, bootstrapHostCase{
		token: token, ns: "flux-bb", branch: "main", gitDir: b.env.Git.Repos.Path("projects/fleet/bb"), deployKey: true,
		args: []string{"bitbucket-server", "--owner=FLEET", "--repository=bb", "--username=flux-bot", "--hostname=" + api.Host(),
			"--ca-file=" + writeCA(t, api.CACert()), "--group=ops"},
		commitFile: func(path, content string) error {
			_, err := b.env.Git.Commit("projects/fleet/bb").Branch("main").File(path, content).Message("patch").Do()
			return err
		},
		afterFirst: func(t *testing.T, _ string) {
			r, ok := api.Repository("FLEET", "bb")
			if !ok || r.Public || len(r.AccessKeys) != 1 || r.AccessKeys[0].Permission != "REPO_READ" || r.Groups["ops"] != "REPO_WRITE" {
				t.Errorf("repository %+v", r)
			}
		},
	})
}

func (b *bootstrapEnv) testGitea(t *testing.T) {
	t.Parallel()
	srv := b.gitea
	ctx := context.Background()
	if err := srv.CreateOrg(ctx, "fleet"); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateTeam(ctx, "fleet", "ops"); err != nil {
		t.Fatal(err)
	}
	ring, publicKey := writeBootstrapKeyRing(t)
	b.runHost(t, bootstrapHostCase{
		token: srv.Token(), ns: "flux-gt", branch: "main", gitDir: srv.RepoPath("fleet", "gt"), deployKey: true,
		args: []string{"gitea", "--owner=fleet", "--repository=gt", "--hostname=" + srv.Host(), "--ca-file=" + writeCA(t, srv.CACert()), "--team=ops",
			"--gpg-key-ring=" + ring, "--author-email=flux@example.com"},
		commitFile: func(path, content string) error {
			return srv.PutFile(ctx, "fleet", "gt", "main", path, content, "patch")
		},
		afterFirst: func(t *testing.T, _ string) {
			keys, err := srv.DeployKeys(ctx, "fleet", "gt")
			if err != nil || len(keys) != 1 || !keys[0].ReadOnly {
				t.Errorf("deploy keys %+v %v", keys, err)
			}
			teams, _ := srv.Teams(ctx, "fleet", "gt")
			if !strings.Contains(strings.Join(teams, ","), "ops") {
				t.Errorf("teams %v", teams)
			}
			if r, _ := srv.Repository(ctx, "fleet", "gt"); r == nil || !r.Private {
				t.Errorf("repository %+v", r)
			}
			// --gpg-key-ring signs bootstrap's commits.
			repo, err := gogit.PlainOpen(srv.RepoPath("fleet", "gt"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := repo.CommitObject(plumbing.NewHash(bareHead(t, srv.RepoPath("fleet", "gt"), "main")))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Verify(publicKey); err != nil {
				t.Errorf("the bootstrap commit is not signed with --gpg-key-ring: %v", err)
			}
		},
	})
}

// decodeData is a Secret's data value, decoded.
func decodeData(secret *unstructured.Unstructured, key string) string {
	v, _, _ := unstructured.NestedString(secret.Object, "data", key)
	out, _ := base64.StdEncoding.DecodeString(v)
	return string(out)
}

// writeBootstrapKeyRing writes a new OpenPGP secret key ring (armored) and returns its path
// and the armored public key.
func writeBootstrapKeyRing(t *testing.T) (string, string) {
	t.Helper()
	k, err := gitserver.NewOpenPGPKey("Flux", "flux@example.com")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKeyArmored()
	if err != nil {
		t.Fatal(err)
	}
	var priv bytes.Buffer
	w, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Entity.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	p := filepath.Join(t.TempDir(), "ring.asc")
	if err := os.WriteFile(p, priv.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, pub
}
