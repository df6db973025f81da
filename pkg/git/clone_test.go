package git

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"

	"gotk.dev/internal/testing/gitserver"
)

// fixture is one repository with branches, tags and a pull request ref.
type fixture struct {
	srv                    *gitserver.Server
	url                    string
	c1, c2, c3, pr, master string
	annotated              string // tag object of v1.1.0
}

func newFixture(t *testing.T, opts gitserver.Options) *fixture {
	t.Helper()
	s := gitserver.New(t, opts)
	url, err := s.InitRepo("org/app")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: s, url: url}
	f.c1 = s.Commit("org/app").Files(map[string]string{
		"deploy/app.yaml":     "v: 1\n",
		"deploy-old/app.yaml": "old\n",
		"apps/a.yaml":         "a\n",
		"README.md":           "readme\n",
	}).Author("Ann", "ann@example.com").Message("first\n\nbody").MustDo(t)
	f.c2 = s.Commit("org/app").File("deploy/app.yaml", "v: 2\n").Message("second").MustDo(t)
	f.c3 = s.Commit("org/app").Branch("feature").File("deploy/app.yaml", "v: 3\n").Message("third").MustDo(t)
	f.pr = s.Commit("org/app").ToRef("refs/pull/1/head").Parent(f.c2).File("deploy/app.yaml", "v: pr\n").MustDo(t)
	f.master = f.c1
	must(t, s.CreateBranch("org/app", "master", f.c1))
	must(t, s.LightweightTag("org/app", "v1.0.0", f.c1))
	if f.annotated, err = s.AnnotatedTag("org/app", "v1.1.0", f.c2, gitserver.TagOptions{Message: "release 1.1"}); err != nil {
		t.Fatal(err)
	}
	must(t, s.LightweightTag("org/app", "v2.0.0-rc.1", f.c3))
	must(t, s.LightweightTag("org/app", "not-semver", f.c3))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCloneCheckoutRefs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, gitserver.Options{})
	c := NewClient(ClientOptions{})
	tests := []struct {
		name        string
		ref         CheckoutRef
		wantRev     func() string
		wantContent string
		wantRef     string
		wantTag     bool
		history     bool // commit checkouts need full history
	}{
		{"default branch is master", CheckoutRef{}, func() string { return "master@sha1:" + f.master }, "v: 1\n", "refs/heads/master", false, false},
		{"branch", CheckoutRef{Branch: "main"}, func() string { return "main@sha1:" + f.c2 }, "v: 2\n", "refs/heads/main", false, false},
		{"other branch", CheckoutRef{Branch: "feature"}, func() string { return "feature@sha1:" + f.c3 }, "v: 3\n", "refs/heads/feature", false, false},
		{"lightweight tag", CheckoutRef{Tag: "v1.0.0"}, func() string { return "v1.0.0@sha1:" + f.c1 }, "v: 1\n", "refs/tags/v1.0.0", false, false},
		{"annotated tag", CheckoutRef{Tag: "v1.1.0"}, func() string { return "v1.1.0@sha1:" + f.c2 }, "v: 2\n", "refs/tags/v1.1.0", true, false},
		{"semver excludes pre-releases", CheckoutRef{SemVer: ">=1.0.0"}, func() string { return "v1.1.0@sha1:" + f.c2 }, "v: 2\n", "refs/tags/v1.1.0", true, false},
		{"semver with pre-releases", CheckoutRef{SemVer: ">=2.0.0-0"}, func() string { return "v2.0.0-rc.1@sha1:" + f.c3 }, "v: 3\n", "refs/tags/v2.0.0-rc.1", false, false},
		{"semver upper bound", CheckoutRef{SemVer: "<1.1.0"}, func() string { return "v1.0.0@sha1:" + f.c1 }, "v: 1\n", "refs/tags/v1.0.0", false, false},
		{"semver wins over tag and branch", CheckoutRef{SemVer: "1.0.x", Tag: "v1.1.0", Branch: "feature"}, func() string { return "v1.0.0@sha1:" + f.c1 }, "v: 1\n", "refs/tags/v1.0.0", false, false},
		{"name of a branch keeps the full ref", CheckoutRef{Name: "refs/heads/main"}, func() string { return "refs/heads/main@sha1:" + f.c2 }, "v: 2\n", "refs/heads/main", false, false},
		{"name of a pull request", CheckoutRef{Name: "refs/pull/1/head", Branch: "main"}, func() string { return "refs/pull/1/head@sha1:" + f.pr }, "v: pr\n", "refs/pull/1/head", false, false},
		{"name of an annotated tag", CheckoutRef{Name: "refs/tags/v1.1.0"}, func() string { return "refs/tags/v1.1.0@sha1:" + f.c2 }, "v: 2\n", "refs/tags/v1.1.0", true, false},
		{"commit", CheckoutRef{Commit: f.c1}, func() string { return "sha1:" + f.c1 }, "v: 1\n", "", false, true},
		{"commit on a branch", CheckoutRef{Commit: f.c1, Branch: "main"}, func() string { return "main@sha1:" + f.c1 }, "v: 1\n", "refs/heads/main", false, true},
		{"commit on another branch", CheckoutRef{Commit: f.c3, Branch: "feature"}, func() string { return "feature@sha1:" + f.c3 }, "v: 3\n", "refs/heads/feature", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			commit, err := c.Clone(context.Background(), f.url, dir, nil, tt.ref, CloneOptions{ShallowIfPossible: true})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := commit.String(), tt.wantRev(); got != want {
				t.Fatalf("revision = %q, want %q", got, want)
			}
			if commit.Reference != tt.wantRef {
				t.Errorf("Reference = %q, want %q", commit.Reference, tt.wantRef)
			}
			if got := readFile(t, filepath.Join(dir, "deploy/app.yaml")); got != tt.wantContent {
				t.Errorf("deploy/app.yaml = %q, want %q", got, tt.wantContent)
			}
			if (commit.ReferencingTag != nil) != tt.wantTag {
				t.Fatalf("ReferencingTag = %+v, want present=%v", commit.ReferencingTag, tt.wantTag)
			}
			if tt.wantTag && (commit.ReferencingTag.Name != "v1.1.0" || commit.ReferencingTag.Hash != f.annotated ||
				commit.ReferencingTag.Message != "release 1.1\n") {
				t.Errorf("ReferencingTag = %+v", commit.ReferencingTag)
			}
			_, err = os.Stat(filepath.Join(dir, ".git", "shallow"))
			if shallow := err == nil; shallow == tt.history {
				t.Errorf("shallow clone = %v, want %v", shallow, !tt.history)
			}
			// The fast path must agree with the clone.
			res, err := c.ResolveRef(context.Background(), f.url, nil, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if res.String() != commit.String() || res.Reference != commit.Reference {
				t.Errorf("ResolveRef = %q (%s), Clone = %q (%s)", res, res.Reference, commit, commit.Reference)
			}
		})
	}
}

func TestCloneCommitMetadataAndBranchHEAD(t *testing.T) {
	t.Parallel()
	f := newFixture(t, gitserver.Options{})
	dir := t.TempDir()
	commit, err := NewClient(ClientOptions{}).Clone(context.Background(), f.url, dir, nil, CheckoutRef{Tag: "v1.0.0"}, CloneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if commit.Author.Name != "Ann" || commit.Author.Email != "ann@example.com" || commit.Committer.Name != "Ann" ||
		commit.Message != "first\n\nbody\n" || commit.ShortMessage() != "first" || commit.Author.When.IsZero() {
		t.Errorf("metadata = %+v", commit)
	}
	if !strings.HasPrefix(string(commit.Encoded), "tree ") || commit.Signature != "" {
		t.Errorf("Encoded/Signature wrong: %q %q", commit.Encoded, commit.Signature)
	}

	// A branch checkout leaves HEAD on a local branch tracking origin.
	dir = t.TempDir()
	if _, err := NewClient(ClientOptions{}).Clone(context.Background(), f.url, dir, nil, CheckoutRef{Branch: "main"}, CloneOptions{}); err != nil {
		t.Fatal(err)
	}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Head()
	if err != nil || head.Name() != "refs/heads/main" || head.Hash().String() != f.c2 {
		t.Fatalf("HEAD = %v, %v", head, err)
	}
	cfg, _ := repo.Config()
	if b := cfg.Branches["main"]; b == nil || b.Remote != "origin" || b.Merge != "refs/heads/main" {
		t.Fatalf("branch config = %+v", cfg.Branches["main"])
	}
	if remote := cfg.Remotes["origin"]; remote == nil || remote.URLs[0] != f.url {
		t.Fatalf("origin = %+v", cfg.Remotes["origin"])
	}
	wt, _ := repo.Worktree()
	if st, err := wt.Status(); err != nil || !st.IsClean() {
		t.Fatalf("worktree not clean after clone: %v %v", st, err)
	}
}

func TestCloneErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, gitserver.Options{})
	c := NewClient(ClientOptions{})
	tests := []struct {
		name    string
		url     string
		ref     CheckoutRef
		wantErr string
	}{
		{"missing branch", f.url, CheckoutRef{Branch: "nope"}, `couldn't find remote ref "refs/heads/nope"`},
		{"missing tag", f.url, CheckoutRef{Tag: "v9"}, `couldn't find remote ref "refs/tags/v9"`},
		{"missing name", f.url, CheckoutRef{Name: "refs/pull/9/head"}, `couldn't find remote ref "refs/pull/9/head"`},
		{"no semver match", f.url, CheckoutRef{SemVer: ">=5.0.0"}, `no tag matches semver range ">=5.0.0"`},
		{"bad semver range", f.url, CheckoutRef{SemVer: "not a range"}, `semver range "not a range"`},
		{"commit not on branch", f.url, CheckoutRef{Commit: f.c3, Branch: "main"}, "is not on branch main"},
		{"unknown commit", f.url, CheckoutRef{Commit: strings.Repeat("ab", 20)}, "not found"},
		{"invalid commit", f.url, CheckoutRef{Commit: "zzz"}, "invalid commit"},
		{"name must be a full ref", f.url, CheckoutRef{Name: "main"}, "want a full reference"},
		{"missing repository", f.srv.RepoURL("org/none"), CheckoutRef{Branch: "main"}, "org/none.git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Clone(context.Background(), tt.url, t.TempDir(), nil, tt.ref, CloneOptions{ShallowIfPossible: true})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "unable to clone '"+tt.url+"'") {
				t.Errorf("error does not name the URL: %v", err)
			}
		})
	}
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "x"), nil, 0o644))
	if _, err := c.Clone(context.Background(), f.url, dir, nil, CheckoutRef{Branch: "main"}, CloneOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("clone into a non-empty dir: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Clone(ctx, f.url, t.TempDir(), nil, CheckoutRef{Branch: "main"}, CloneOptions{}); err == nil {
		t.Fatal("clone with a cancelled context succeeded")
	}
}

func TestResolveRefDoesNotClone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, gitserver.Options{})
	c := NewClient(ClientOptions{})
	before := f.srv.Requests()
	res, err := c.ResolveRef(context.Background(), f.url, nil, CheckoutRef{SemVer: "1.x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.String() != "v1.1.0@sha1:"+f.c2 {
		t.Fatalf("resolved %s", res)
	}
	after := f.srv.Requests()
	if after.InfoRefs != before.InfoRefs+1 || after.UploadPack != before.UploadPack {
		t.Fatalf("ResolveRef made %d listings and %d fetches, want 1 and 0",
			after.InfoRefs-before.InfoRefs, after.UploadPack-before.UploadPack)
	}
	// A commit needs no request at all.
	if res, err := c.ResolveRef(context.Background(), f.url, nil, CheckoutRef{Commit: f.c1, Branch: "main"}); err != nil || res.String() != "main@sha1:"+f.c1 {
		t.Fatalf("commit resolve = %v, %v", res, err)
	}
	if f.srv.Requests() != after {
		t.Fatal("resolving a commit contacted the server")
	}
	refs, err := c.ListRefs(context.Background(), f.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if refs["refs/tags/v1.1.0"] != f.annotated || refs["refs/tags/v1.1.0^{}"] != f.c2 || refs["refs/pull/1/head"] != f.pr {
		t.Fatalf("ListRefs = %v", refs)
	}
}

func TestSparseCheckout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, gitserver.Options{})
	dir := t.TempDir()
	_, err := NewClient(ClientOptions{}).Clone(context.Background(), f.url, dir, nil, CheckoutRef{Branch: "main"},
		CloneOptions{SparseCheckout: []string{"./deploy/"}, ShallowIfPossible: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "deploy/app.yaml")); got != "v: 2\n" {
		t.Fatalf("deploy/app.yaml = %q", got)
	}
	for _, absent := range []string{"apps/a.yaml", "deploy-old/app.yaml", "README.md"} {
		if _, err := os.Stat(filepath.Join(dir, absent)); !os.IsNotExist(err) {
			t.Errorf("%s was checked out by a sparse checkout of deploy/ (%v)", absent, err)
		}
	}
	if _, err := NewClient(ClientOptions{}).Clone(context.Background(), f.url, t.TempDir(), nil, CheckoutRef{Branch: "main"},
		CloneOptions{SparseCheckout: []string{"../etc"}}); err == nil {
		t.Fatal("sparse directory with .. accepted")
	}
}

func TestSubmodules(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		opts := gitserver.Options{Username: "u", Password: "submodule-pass", TLS: tls}
		s := gitserver.New(t, opts)
		for _, r := range []string{"lib", "nested", "app"} {
			if _, err := s.InitRepo(r); err != nil {
				t.Fatal(err)
			}
		}
		nested := s.Commit("nested").File("n.txt", "nested").MustDo(t)
		lib := s.Commit("lib").File("lib.txt", "lib").Submodule("deep", s.RepoURL("nested"), nested).MustDo(t)
		s.Commit("app").File("app.txt", "app").
			Submodule("vendor/lib", s.RepoURL("lib"), lib).
			Submodule("rel", "../nested.git", nested).MustDo(t)
		auth, err := NewAuthOptions(mustURL(t, s.RepoURL("app")), map[string][]byte{
			"username": []byte("u"), "password": []byte("submodule-pass"), "ca.crt": s.CACert(),
		})
		if err != nil {
			t.Fatal(err)
		}
		c := NewClient(ClientOptions{})
		dir := t.TempDir()
		if _, err := c.Clone(context.Background(), s.RepoURL("app"), dir, auth, CheckoutRef{Branch: "main"},
			CloneOptions{RecurseSubmodules: true, ShallowIfPossible: true}); err != nil {
			t.Fatalf("tls=%v: %v", tls, err)
		}
		for p, want := range map[string]string{"vendor/lib/lib.txt": "lib", "vendor/lib/deep/n.txt": "nested", "rel/n.txt": "nested"} {
			if got := readFile(t, filepath.Join(dir, p)); got != want {
				t.Errorf("tls=%v: %s = %q", tls, p, got)
			}
		}
		// Without RecurseSubmodules the directories stay empty.
		dir = t.TempDir()
		if _, err := c.Clone(context.Background(), s.RepoURL("app"), dir, auth, CheckoutRef{Branch: "main"}, CloneOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "vendor/lib/lib.txt")); !os.IsNotExist(err) {
			t.Errorf("submodule checked out without RecurseSubmodules: %v", err)
		}
	}
}

func TestSubmoduleURLRestrictions(t *testing.T) {
	t.Parallel()
	s := gitserver.New(t, gitserver.Options{})
	s.InitRepo("lib")
	s.InitRepo("app")
	lib := s.Commit("lib").File("secret.txt", "local").MustDo(t)
	s.Commit("app").Submodule("lib", "file://"+s.Path("lib"), lib).MustDo(t)
	_, err := NewClient(ClientOptions{}).Clone(context.Background(), s.RepoURL("app"), t.TempDir(), nil,
		CheckoutRef{Branch: "main"}, CloneOptions{RecurseSubmodules: true})
	if err == nil || !strings.Contains(err.Error(), "unsupported submodule URL") {
		t.Fatalf("file:// submodule: %v", err)
	}
}
