package app

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/golden"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/gitea"
	"gotk.dev/internal/testing/gitserver"
)

// TestBootstrap runs flux bootstrap against one local cluster whose GitRepository and
// Kustomization objects are reconciled by the real source- and kustomize-controller
// (processes), while the installed controller Deployments are simulated by kwok. Each case
// bootstraps its own namespace from its own repository, so they run in parallel.
func TestBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster with controllers")
	}
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	env := framework.Setup(t, opts.WithControllers("source-controller", "kustomize-controller"))
	b := &bootstrapEnv{env: env, kc: "--kubeconfig=" + env.Cluster.Kubeconfig, gitea: gitea.New(t, gitea.Options{})}
	// The SSH case pushes with the agent; the Git host cases type their token.
	t.Setenv("SSH_AUTH_SOCK", startBootstrapSSHAgent(t, env.GitSSH.ClientKey()))
	for _, h := range bootstrapHosts() {
		t.Setenv(h.tokenEnv, "")
	}

	t.Run("git over HTTP with token auth, rerun, user patch and upgrade", b.testHTTP)
	t.Run("git over SSH with a generated ed25519 key", b.testSSH)
	t.Run("git over SSH with --private-key-file", b.testSSHKeyFile)
	t.Run("github", b.testGitHub)
	t.Run("github personal with --token-auth", b.testGitHubTokenAuth)
	t.Run("gitlab", b.testGitLab)
	t.Run("gitlab with --deploy-token-auth", b.testGitLabDeployToken)
	t.Run("gitea", b.testGitea)
	t.Run("bitbucket-server", b.testBitbucket)
	t.Run("git host bad input", b.testHostBadInput)
	t.Run("new branch", b.testNewBranch)
	t.Run("bad input", b.testBadInput)
}

// bootstrapEnv is what the cases share.
type bootstrapEnv struct {
	env   *framework.Env
	kc    string
	gitea *gitea.Server
}

// run runs flux bootstrap with the kubeconfig and a timeout added.
func (b *bootstrapEnv) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runFlux(t, stdin, append(append([]string{"bootstrap"}, args...), b.kc, "--timeout=3m")...)
}

// wantSynced checks the sync objects of namespace ns are Ready at revision.
func (b *bootstrapEnv) wantSynced(t *testing.T, ns, revision string) {
	t.Helper()
	for _, kind := range []string{"GitRepository", "Kustomization"} {
		k, _ := LookupKind("", kind)
		u := bootstrapGetObject(t, b.env.Client, k.GroupVersion.String(), kind, ns, ns)
		if u == nil {
			t.Errorf("%s %s/%s not found", kind, ns, ns)
			continue
		}
		if st := StatusOf(u); st.Ready != "True" || st.Revision != revision {
			t.Errorf("%s %s/%s: ready=%s revision=%s (want %s): %s", kind, ns, ns, st.Ready, st.Revision, revision, st.Message)
		}
	}
}

func (b *bootstrapEnv) testHTTP(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-t0k3n-value"
	srv := gitserver.New(t, gitserver.Options{Username: "flux", Password: token})
	url, err := srv.InitRepo("fleet/http")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"git", "--url=" + url, "--username=flux", "--password=" + token, "--token-auth",
		"--allow-insecure-http", "--path=clusters/test", "--author-name=Bot", "--author-email=bot@example.com",
		"--commit-message-appendix=[ci skip]"}
	head := func() string {
		h, err := srv.Resolve("fleet/http", "main")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	r := b.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if strings.Contains(r.stderr+r.stdout, token) {
		t.Error("the token was printed")
	}
	got := normalizeBootstrapOutput(r.stderr)
	golden.Assert(t, "bootstrap-git-http", got)
	wants(t, "stderr", r.stderr, "✔ source-controller: deployment ready", "✔ notification-controller: deployment ready")
	first := head()
	b.wantSynced(t, "flux-system", "main@sha1:"+first)
	for _, f := range []string{"gotk-components.yaml", "gotk-sync.yaml", "kustomization.yaml"} {
		if bootstrapRepoFileAt(t, srv.Repos, "fleet/http", "main", "clusters/test/flux-system/"+f) == "" {
			t.Errorf("%s was not committed", f)
		}
	}
	sync := bootstrapRepoFileAt(t, srv.Repos, "fleet/http", "main", "clusters/test/flux-system/gotk-sync.yaml")
	wants(t, "gotk-sync.yaml", sync, "url: "+url+"\n", "path: ./clusters/test\n", "interval: 1m0s\n", "interval: 10m0s\n")
	secret := bootstrapGetObject(t, b.env.Client, "v1", "Secret", "flux-system", "flux-system")
	if secret == nil || secret.Object["data"].(map[string]any)["username"] != "Zmx1eA==" || len(secret.Object["data"].(map[string]any)) != 2 {
		t.Errorf("secret %v", secret)
	}
	log, err := bootstrapGitLog(srv.Repos, "fleet/http", "main")
	if err != nil || !strings.Contains(log, "Bot <bot@example.com>: Add Flux sync manifests\n\n[ci skip]") ||
		!strings.Contains(log, "Add Flux "+defaultImageTag()+" component manifests") {
		t.Errorf("history: %v\n%s", err, log)
	}

	t.Run("a second run changes nothing", func(t *testing.T) {
		r := b.run(t, "", args...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		bootstrapWantsInOrder(t, r.stderr, "✔ component manifests are up to date", "✔ reconciled components",
			"✔ source secret up to date", "✔ sync manifests are up to date", "✔ Kustomization reconciled successfully",
			"✔ all components are healthy")
		if strings.Contains(r.stderr, "installing components") || strings.Contains(r.stderr, "committed") {
			t.Error("the second run installed or committed")
		}
		if h := head(); h != first {
			t.Errorf("new commit %s", h)
		}
	})

	patched := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - gotk-components.yaml
  - gotk-sync.yaml
patches:
  - target:
      kind: Deployment
      name: source-controller
    patch: |
      - op: add
        path: /metadata/labels/team
        value: platform
`
	if _, err := srv.Commit("fleet/http").File("clusters/test/flux-system/kustomization.yaml", patched).Message("patch").Do(); err != nil {
		t.Fatal(err)
	}
	patchCommit := head()

	t.Run("an upgrade keeps the user's patch", func(t *testing.T) {
		r := b.run(t, "", append(args, "--version=v9.9.9")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		bootstrapWantsInOrder(t, r.stderr, "✔ committed component manifests to \"main\"", "✔ reconciled components",
			"✔ sync manifests are up to date", "✔ all components are healthy")
		upgraded := head()
		if upgraded == patchCommit {
			t.Fatal("no commit")
		}
		if got := bootstrapRepoFileAt(t, srv.Repos, "fleet/http", "main", "clusters/test/flux-system/kustomization.yaml"); got != patched {
			t.Errorf("kustomization.yaml changed:\n%s", got)
		}
		wants(t, "gotk-components.yaml", bootstrapRepoFileAt(t, srv.Repos, "fleet/http", "main", "clusters/test/flux-system/gotk-components.yaml"),
			"# Flux Version: v9.9.9\n", "image: ghcr.io/gotk-dev/source-controller:v9.9.9\n")
		b.wantSynced(t, "flux-system", "main@sha1:"+upgraded)
		d := bootstrapGetObject(t, b.env.Client, "apps/v1", "Deployment", "flux-system", "source-controller")
		if d == nil || d.GetLabels()["team"] != "platform" || !strings.Contains(d.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"].(string), ":v9.9.9") {
			t.Errorf("source-controller Deployment after the upgrade: %v", d)
		}
	})
}

func (b *bootstrapEnv) testSSH(t *testing.T) {
	t.Parallel()
	repo, err := b.env.CreateGitRepo("fleet/ssh")
	if err != nil {
		t.Fatal(err)
	}
	var publicKey string
	r := runBootstrapInteractive(t, func(line string) string {
		if k, ok := strings.CutPrefix(line, "✔ public key: "); ok {
			// The user adds the key to the server, then answers the prompt.
			publicKey = k
			if err := b.env.GitSSH.AuthorizeKey([]byte(k)); err != nil {
				t.Error(err)
			}
			return "y\n"
		}
		return ""
	}, "bootstrap", "git", "--url="+repo.SSHURL, "--ssh-key-algorithm=ed25519", "--path=clusters/ssh", "-n", "flux-ssh", b.kc, "--timeout=3m")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	bootstrapWantsInOrder(t, r.stderr, "► generating source secret", "✔ public key: ssh-ed25519 ",
		"Please give the key access to your repository? [y/N] ", "► applying source secret \"flux-ssh/flux-system\"",
		"◎ waiting for GitRepository \"flux-ssh/flux-ssh\" to be reconciled", "✔ all components are healthy")
	h, err := b.env.Git.Resolve("fleet/ssh", "main")
	if err != nil {
		t.Fatal(err)
	}
	b.wantSynced(t, "flux-ssh", "main@sha1:"+h)
	secret := bootstrapGetObject(t, b.env.Client, "v1", "Secret", "flux-ssh", "flux-system")
	if secret == nil {
		t.Fatal("no secret")
	}
	data := secret.Object["data"].(map[string]any)
	for _, k := range []string{"identity", "identity.pub", "known_hosts"} {
		if data[k] == nil {
			t.Errorf("secret lacks %s", k)
		}
	}
	if publicKey == "" || strings.Contains(string(b.env.GitSSH.ClientPublicKey()), publicKey) {
		t.Errorf("the cluster key %q is not a new key", publicKey)
	}
	if !strings.Contains(bootstrapRepoFileAt(t, b.env.Git.Repos, "fleet/ssh", "main", "clusters/ssh/flux-ssh/gotk-sync.yaml"), "url: "+repo.SSHURL) {
		t.Error("gotk-sync.yaml does not use the SSH URL")
	}
}

func (b *bootstrapEnv) testSSHKeyFile(t *testing.T) {
	t.Parallel()
	repo, err := b.env.CreateGitRepo("fleet/sshkey")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(key, b.env.GitSSH.ClientKey(), 0o600); err != nil {
		t.Fatal(err)
	}
	// No --silent: the key has access already (it pushed), so nothing is asked.
	r := b.run(t, "", "git", "--url="+repo.SSHURL, "--private-key-file="+key, "--path=clusters/key", "-n", "flux-key")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	wantsInOrderPlain := []string{"✔ public key: " + strings.TrimSpace(string(b.env.GitSSH.ClientPublicKey())),
		"► applying source secret \"flux-key/flux-system\"", "✔ all components are healthy"}
	bootstrapWantsInOrder(t, r.stderr, wantsInOrderPlain...)
	if strings.Contains(r.stderr, "Please give the key access") {
		t.Error("asked for access with a key that has it")
	}
	secret := bootstrapGetObject(t, b.env.Client, "v1", "Secret", "flux-key", "flux-system")
	if secret == nil || secret.Object["data"].(map[string]any)["identity"] != base64.StdEncoding.EncodeToString(b.env.GitSSH.ClientKey()) {
		t.Errorf("the secret does not hold --private-key-file: %v", secret)
	}
	h, err := b.env.Git.Resolve("fleet/sshkey", "main")
	if err != nil {
		t.Fatal(err)
	}
	b.wantSynced(t, "flux-key", "main@sha1:"+h)
}

func (b *bootstrapEnv) testNewBranch(t *testing.T) {
	t.Parallel()
	repo, err := b.env.CreateGitRepo("fleet/branches")
	if err != nil {
		t.Fatal(err)
	}
	mainHead, err := repo.Commit(map[string]string{"README.md": "hello\n"}, "init")
	if err != nil {
		t.Fatal(err)
	}
	r := b.run(t, "", "git", "--url="+repo.HTTPURL, "--allow-insecure-http", "--password=unused", "--branch=cluster-b",
		"--path=clusters/b", "-n", "flux-branch", "--components=source-controller,kustomize-controller")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	bootstrapWantsInOrder(t, r.stderr, "► cloning branch \"cluster-b\"", "► branch \"cluster-b\" does not exist yet: the first commit creates it",
		"✔ committed component manifests to \"cluster-b\"", "✔ source-controller: deployment ready", "✔ all components are healthy")
	if strings.Contains(r.stderr, "helm-controller") {
		t.Error("--components was not honoured")
	}
	if h, _ := b.env.Git.Resolve("fleet/branches", "main"); h != mainHead {
		t.Errorf("main moved to %s", h)
	}
	h, err := b.env.Git.Resolve("fleet/branches", "cluster-b")
	if err != nil {
		t.Fatal(err)
	}
	b.wantSynced(t, "flux-branch", "cluster-b@sha1:"+h)
	if !strings.Contains(bootstrapRepoFileAt(t, b.env.Git.Repos, "fleet/branches", "cluster-b", "clusters/b/flux-branch/gotk-sync.yaml"), "branch: cluster-b\n") {
		t.Error("gotk-sync.yaml does not follow the new branch")
	}
}

func (b *bootstrapEnv) testBadInput(t *testing.T) {
	t.Parallel()
	const password = "hunter2-very-secret"
	srv := gitserver.New(t, gitserver.Options{Username: "flux", Password: "the-right-one"})
	goodURL, err := srv.InitRepo("fleet/bad")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://127.0.0.1:" + closedPort(t) + "/fleet/none.git"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unreachable URL", []string{"--url=" + closed, "--password=" + password},
			[]string{"✗ unable to list references of '" + closed + "'", "connection refused"}},
		{"credentials in the URL", []string{"--url=" + strings.Replace(closed, "http://", "http://flux:"+password+"@", 1)},
			[]string{"✗ unable to list references of '" + closed + "'"}},
		{"wrong password", []string{"--url=" + goodURL, "--username=flux", "--password=" + password},
			[]string{"✗ unable to list references of '" + goodURL + "'", "authentication required"}},
		{"plain HTTP needs consent", []string{"--url=" + goodURL, "--password=" + password},
			[]string{"✗ scheme http is insecure, pass --allow-insecure-http=true to allow it"}},
		{"unsupported scheme", []string{"--url=ftp://example.com/repo", "--password=" + password}, []string{"unsupported scheme \"ftp\""}},
		{"path outside the repository", []string{"--url=" + goodURL, "--password=" + password, "--path=../x"}, []string{"✗ invalid --path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"git", "-n", "flux-bad", "--path=clusters/bad"}, tt.args...)
			if tt.name != "plain HTTP needs consent" {
				args = append(args, "--allow-insecure-http")
			}
			r := b.run(t, "", args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			wants(t, "stderr", r.stderr, tt.want...)
			if strings.Contains(r.stderr+r.stdout, password) {
				t.Error("the password was printed")
			}
		})
	}
	if bootstrapGetObject(t, b.env.Client, "v1", "Namespace", "", "flux-bad") != nil {
		t.Error("a failed bootstrap created the namespace")
	}
	if _, err := srv.Resolve("fleet/bad", "main"); err == nil {
		t.Error("a failed bootstrap pushed")
	}
}

// bootstrapGitLog is "author <email>: message" of each commit of a branch, newest first.
func bootstrapGitLog(repos *gitserver.Repos, name, branch string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "--git-dir="+repos.Path(name), "log", "--format=%an <%ae>: %B", branch).CombinedOutput()
	return string(out), err
}
