package update

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotk.dev/image-automation-controller/internal/setters"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/git"
)

const (
	deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo # the app
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.3.0 # {"$imagepolicy": "flux-system:podinfo"}
`
	values = `# Helm values
image:
  repository: ghcr.io/stefanprodan/podinfo # {"$imagepolicy": "flux-system:podinfo:name"}
  tag: "6.3.0" # {"$imagepolicy": "flux-system:podinfo:tag"}
`
)

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func podinfo(tag string) setters.Policy {
	return setters.Policy{Namespace: "flux-system", Name: "podinfo", Image: "ghcr.io/stefanprodan/podinfo", Tag: tag}
}

// seed creates repository name on s with the app manifests on branch main.
func seed(t testing.TB, s *gitserver.Repos, name string) {
	t.Helper()
	if err := s.Init(name); err != nil {
		t.Fatal(err)
	}
	s.Commit(name).Branch("main").Files(map[string]string{
		"clusters/prod/podinfo/deployment.yaml": deployment,
		"clusters/prod/podinfo/values.yaml":     values,
		"clusters/staging/deployment.yaml":      deployment,
		"README.md":                             "# app\n",
	}).Message("initial").MustDo(t)
}

// httpServer serves repository "app" with basic auth and returns the options to reach it.
func httpServer(t testing.TB) (*gitserver.Server, Options) {
	t.Helper()
	s := gitserver.New(t, gitserver.Options{Username: "flux", Password: "git-secret-pass"})
	seed(t, s.Repos, "app")
	repoURL := s.RepoURL("app")
	auth := authFor(t, repoURL, map[string][]byte{"username": []byte("flux"), "password": []byte("git-secret-pass")})
	return s, baseOptions(t, repoURL, auth)
}

func authFor(t testing.TB, repoURL string, data map[string][]byte) *git.AuthOptions {
	t.Helper()
	u, err := url.Parse(repoURL)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := git.NewAuthOptions(u, data)
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

func baseOptions(t testing.TB, repoURL string, auth *git.AuthOptions) Options {
	return Options{
		URL:          repoURL,
		Auth:         auth,
		Checkout:     git.CheckoutRef{Branch: "main"},
		Path:         "./clusters/prod",
		Policies:     []setters.Policy{podinfo("6.5.0")},
		AuthorName:   "fluxcdbot",
		AuthorEmail:  "fluxcdbot@users.noreply.github.com",
		Automation:   AutomationObject{Namespace: "flux-system", Name: "podinfo-update"},
		ShallowClone: true,
		WorkDir:      t.TempDir(),
		Now:          func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
}

// show reads path at rev from a bare repository with the git CLI.
func show(t testing.TB, bare, rev, path string) string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", bare, "show", rev+":"+path).CombinedOutput()
	if err != nil {
		t.Fatalf("git show %s:%s: %v: %s", rev, path, err, out)
	}
	return string(out)
}

// gitOut runs git against a bare repository.
func gitOut(t testing.TB, bare string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"--git-dir", bare}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// recordPushOptions makes the bare repository accept push options and write those it receives
// to the returned file.
func recordPushOptions(t testing.TB, bare string) string {
	t.Helper()
	gitOut(t, bare, "config", "receive.advertisePushOptions", "true")
	log := filepath.Join(t.TempDir(), "push-options")
	hook := "#!/bin/sh\ni=0\nwhile [ $i -lt \"${GIT_PUSH_OPTION_COUNT:-0}\" ]; do\n  eval \"echo \\\"\\$GIT_PUSH_OPTION_$i\\\"\" >> " + log + "\n  i=$((i+1))\ndone\n"
	if err := os.WriteFile(filepath.Join(bare, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	return log
}
