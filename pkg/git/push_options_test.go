package git

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"gotk.dev/internal/testing/gitserver"
)

// recordPushOptions makes the bare repository advertise push options and write those it
// receives to the returned file (one per line), with the real git's pre-receive hook.
func recordPushOptions(t *testing.T, bare string) string {
	t.Helper()
	if out, err := exec.Command("git", "--git-dir", bare, "config", "receive.advertisePushOptions", "true").CombinedOutput(); err != nil {
		t.Fatalf("git config: %v: %s", err, out)
	}
	log := filepath.Join(t.TempDir(), "push-options")
	hook := "#!/bin/sh\ni=0\nwhile [ $i -lt \"${GIT_PUSH_OPTION_COUNT:-0}\" ]; do\n  eval \"echo \\\"\\$GIT_PUSH_OPTION_$i\\\"\" >> " + log + "\n  i=$((i+1))\ndone\n"
	must(t, os.WriteFile(filepath.Join(bare, "hooks", "pre-receive"), []byte(hook), 0o755))
	return log
}

func TestPushOptions(t *testing.T) {
	t.Parallel()
	s := gitserver.New(t, gitserver.Options{})
	url, _ := s.InitRepo("app")
	s.Commit("app").File("a", "a").MustDo(t)
	log := recordPushOptions(t, s.Path("app"))
	c := NewClient(ClientOptions{})
	dir := t.TempDir()
	if _, err := c.Clone(context.Background(), url, dir, nil, CheckoutRef{Branch: "main"}, CloneOptions{ShallowIfPossible: true}); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "a"), []byte("b"), 0o644))
	pushed := commitAll(t, dir, "with options")
	opts := PushOptions{Options: map[string]string{"merge_request.create": "", "merge_request.target": "release"}}
	if err := c.Push(context.Background(), dir, nil, opts); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Resolve("app", "main"); got != pushed {
		t.Fatalf("main = %s, want %s", got, pushed)
	}
	got, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(got))
	slices.Sort(lines)
	if !slices.Equal(lines, []string{"merge_request.create=", "merge_request.target=release"}) {
		t.Fatalf("the server received push options %q", got)
	}
}

// TestPushRequireRemoteRefs: a forced update conditioned on the remote value the caller saw
// succeeds while the remote still holds it, and fails with ErrPushRejected, overwriting
// nothing, once someone else moved the branch.
func TestPushRequireRemoteRefs(t *testing.T) {
	t.Parallel()
	s := gitserver.New(t, gitserver.Options{})
	url, _ := s.InitRepo("app")
	s.Commit("app").File("a", "a").MustDo(t)
	seen := s.Commit("app").Branch("auto").File("auto", "1").MustDo(t)
	c := NewClient(ClientOptions{})
	dir := t.TempDir()
	if _, err := c.Clone(context.Background(), url, dir, nil, CheckoutRef{Branch: "main"}, CloneOptions{}); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "a"), []byte("mine"), 0o644))
	mine := commitAll(t, dir, "mine")
	force := []string{"+refs/heads/main:refs/heads/auto"}

	// Someone pushes to auto after we looked: the condition fails, their commit stays.
	theirs := s.Commit("app").Branch("auto").File("auto", "2").MustDo(t)
	err := c.Push(context.Background(), dir, nil, PushOptions{RefSpecs: force, RequireRemoteRefs: []string{seen + ":refs/heads/auto"}})
	if !errors.Is(err, ErrPushRejected) || !strings.Contains(err.Error(), "unable to push to '"+url+"'") {
		t.Fatalf("push over a moved branch: %v", err)
	}
	if got, _ := s.Resolve("app", "auto"); got != theirs {
		t.Fatalf("auto = %s, the other writer's %s was overwritten", got, theirs)
	}
	// With the value we now see, the forced update goes through.
	if err := c.Push(context.Background(), dir, nil, PushOptions{RefSpecs: force, RequireRemoteRefs: []string{theirs + ":refs/heads/auto"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Resolve("app", "auto"); got != mine {
		t.Fatalf("auto = %s, want %s", got, mine)
	}
	// A plain non-fast-forward push is a rejection too.
	s.Commit("app").Branch("main").File("b", "b").MustDo(t)
	if err := c.Push(context.Background(), dir, nil, PushOptions{}); !errors.Is(err, ErrPushRejected) {
		t.Fatalf("non-fast-forward push: %v", err)
	}
	// Malformed conditions and refspecs are refused before anything is sent.
	for _, bad := range []PushOptions{{RequireRemoteRefs: []string{"main"}}, {RequireRemoteRefs: []string{seen + ":main"}}, {RefSpecs: []string{"a:b:c"}}} {
		if err := c.Push(context.Background(), dir, nil, bad); err == nil || errors.Is(err, ErrPushRejected) {
			t.Errorf("%+v: err = %v", bad, err)
		}
	}
}

func TestFetch(t *testing.T) {
	t.Parallel()
	s := gitserver.New(t, gitserver.Options{Username: "u", Password: "fetch-pass"})
	url, _ := s.InitRepo("app")
	s.Commit("app").File("a", "a").MustDo(t)
	other := s.Commit("app").Branch("other").File("o", "o").MustDo(t)
	auth, err := NewAuthOptions(mustURL(t, url), secretData("username", "u", "password", "fetch-pass"))
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(ClientOptions{})
	dir := t.TempDir()
	if _, err := c.Clone(context.Background(), url, dir, auth, CheckoutRef{Branch: "main"}, CloneOptions{ShallowIfPossible: true}); err != nil {
		t.Fatal(err)
	}
	spec := []string{"+refs/heads/other:refs/remotes/origin/other"}
	for range 2 { // the second fetch finds nothing new, which is fine
		if err := c.Fetch(context.Background(), dir, auth, FetchOptions{RefSpecs: spec, Depth: 1}); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewRemoteReferenceName("origin", "other"), true)
	if err != nil || ref.Hash().String() != other {
		t.Fatalf("origin/other = %v, %v; want %s", ref, err, other)
	}
	if _, err := repo.CommitObject(ref.Hash()); err != nil {
		t.Fatalf("fetched commit missing: %v", err)
	}
	bad, _ := NewAuthOptions(mustURL(t, url), secretData("username", "u", "password", "wrong-fetch-pass"))
	err = c.Fetch(context.Background(), dir, bad, FetchOptions{RefSpecs: spec})
	if err == nil || strings.Contains(err.Error(), "wrong-fetch-pass") || !strings.Contains(err.Error(), "unable to fetch") {
		t.Fatalf("fetch with a wrong password: %v", err)
	}
	if err := c.Fetch(context.Background(), dir, auth, FetchOptions{}); err == nil {
		t.Fatal("fetch without refspecs succeeded")
	}
	if err := c.Fetch(context.Background(), dir, auth, FetchOptions{RefSpecs: []string{"+refs/heads/missing:refs/remotes/origin/missing"}}); err == nil {
		t.Fatal("fetch of a missing branch succeeded")
	}
}
