package git

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"gotk.dev/internal/testing/gitserver"
)

// commitAll commits every change in dir with go-git, as image automation
// will, and returns the new hash.
func commitAll(t *testing.T, dir, msg string) string {
	t.Helper()
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	must(t, wt.AddWithOptions(&gogit.AddOptions{All: true}))
	h, err := wt.Commit(msg, &gogit.CommitOptions{Author: &object.Signature{Name: "bot", Email: "bot@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestPush(t *testing.T) {
	t.Parallel()
	s := gitserver.New(t, gitserver.Options{Username: "u", Password: "push-pass"})
	url, _ := s.InitRepo("app")
	s.Commit("app").File("a", "a").MustDo(t)
	auth, err := NewAuthOptions(mustURL(t, url), secretData("username", "u", "password", "push-pass"))
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(ClientOptions{})
	dir := t.TempDir()
	if _, err := c.Clone(context.Background(), url, dir, auth, CheckoutRef{Branch: "main"}, CloneOptions{ShallowIfPossible: true}); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "a"), []byte("updated"), 0o644))
	pushed := commitAll(t, dir, "update")

	// Default: the current branch.
	if err := c.Push(context.Background(), dir, auth, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Resolve("app", "main"); got != pushed {
		t.Fatalf("main = %s, want %s", got, pushed)
	}
	// Explicit refspec to another branch; pushing again is a no-op.
	for range 2 {
		if err := c.Push(context.Background(), dir, auth, PushOptions{RefSpecs: []string{"refs/heads/main:refs/heads/auto"}}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Resolve("app", "auto"); got != pushed {
		t.Fatalf("auto = %s, want %s", got, pushed)
	}
	// A diverged remote needs Force.
	s.Commit("app").Branch("auto").File("b", "b").MustDo(t)
	err = c.Push(context.Background(), dir, auth, PushOptions{RefSpecs: []string{"refs/heads/main:refs/heads/auto"}})
	if err == nil || !strings.Contains(err.Error(), "unable to push to '"+url+"'") {
		t.Fatalf("non-fast-forward push: %v", err)
	}
	if err := c.Push(context.Background(), dir, auth, PushOptions{RefSpecs: []string{"refs/heads/main:refs/heads/auto"}, Force: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Resolve("app", "auto"); got != pushed {
		t.Fatalf("forced auto = %s, want %s", got, pushed)
	}
	// Wrong credentials fail without leaking the password.
	bad, _ := NewAuthOptions(mustURL(t, url), secretData("username", "u", "password", "wrong-push-pass"))
	err = c.Push(context.Background(), dir, bad, PushOptions{RefSpecs: []string{"refs/heads/main:refs/heads/other"}})
	if err == nil || strings.Contains(err.Error(), "wrong-push-pass") {
		t.Fatalf("push with a wrong password: %v", err)
	}
}
