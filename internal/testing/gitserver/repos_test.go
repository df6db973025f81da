package gitserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cloneCLI clones repo from s with the git CLI into a new directory.
func cloneCLI(t *testing.T, g *gitCLI, s *Server, repo string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	g.must("", append(append([]string{"clone", "-q"}, args...), s.RepoURL(repo), dir)...)
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCommitBuilder(t *testing.T) {
	t.Parallel()
	s := New(t, Options{})
	if _, err := s.InitRepo("app"); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	first := s.Commit("app").
		Files(map[string]string{"deploy/a.yaml": "a: 1\n", "deploy/sub/b.yaml": "b: 1\n", "README.md": "hi\n"}).
		Author("Jane", "jane@example.com").Time(when).Message("first").MustDo(t)
	second := s.Commit("app").Delete("deploy/sub").File("deploy/a.yaml", "a: 2\n").Message("second").MustDo(t)

	g := newGitCLI(t)
	dir := cloneCLI(t, g, s, "app")
	if head := g.must(dir, "rev-parse", "HEAD"); head != second {
		t.Fatalf("HEAD = %s, want %s", head, second)
	}
	if parent := g.must(dir, "rev-parse", "HEAD^"); parent != first {
		t.Fatalf("HEAD^ = %s, want %s", parent, first)
	}
	if got := readFile(t, filepath.Join(dir, "deploy/a.yaml")); got != "a: 2\n" {
		t.Fatalf("deploy/a.yaml = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "deploy/sub")); !os.IsNotExist(err) {
		t.Fatalf("deploy/sub still exists: %v", err)
	}
	if got := g.must(dir, "log", "-1", "--format=%an <%ae> %at %s", first); got != "Jane <jane@example.com> 1714979289 first" {
		t.Fatalf("first commit metadata = %q", got)
	}
	// git fsck proves every object we wrote is well formed.
	g.must(s.Path("app"), "fsck", "--strict")

	// Branches, refs and tags.
	feature := s.Commit("app").Branch("feature").File("f.txt", "f").MustDo(t)
	if p := g.must(dir, "fetch", "-q", "origin", "feature"); p != "" {
		t.Log(p)
	}
	if parent := g.must(dir, "rev-parse", "FETCH_HEAD^"); parent != second {
		t.Fatalf("new branch is based on %s, want the default branch head %s", parent, second)
	}
	pr := s.Commit("app").ToRef("refs/pull/1/head").Parent(first).File("pr.txt", "pr").MustDo(t)
	orphan := s.Commit("app").Branch("orphan").Orphan().File("o", "o").MustDo(t)
	if err := s.LightweightTag("app", "v1.0.0", first); err != nil {
		t.Fatal(err)
	}
	tagObj, err := s.AnnotatedTag("app", "v1.1.0", "feature", TagOptions{Message: "release"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBranch("app", "release", "v1.1.0"); err != nil {
		t.Fatal(err)
	}
	refs, err := g.lsRemote(s.RepoURL("app"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"refs/heads/main":     second,
		"refs/heads/feature":  feature,
		"refs/heads/orphan":   orphan,
		"refs/heads/release":  feature,
		"refs/pull/1/head":    pr,
		"refs/tags/v1.0.0":    first,
		"refs/tags/v1.1.0":    tagObj,
		"refs/tags/v1.1.0^{}": feature,
	}
	for ref, hash := range want {
		if refs[ref] != hash {
			t.Errorf("%s = %q, want %s", ref, refs[ref], hash)
		}
	}
	if n := g.must(s.Path("app"), "rev-list", "--count", orphan); n != "1" {
		t.Errorf("orphan commit has %s commits in history, want 1", n)
	}
	if err := s.DeleteRef("app", "refs/pull/1/head"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHEAD("app", "feature"); err != nil {
		t.Fatal(err)
	}
	refs, _ = g.lsRemote(s.RepoURL("app"))
	if _, ok := refs["refs/pull/1/head"]; ok {
		t.Error("refs/pull/1/head not deleted")
	}
	if refs["HEAD"] != feature {
		t.Errorf("HEAD = %s after SetHEAD(feature), want %s", refs["HEAD"], feature)
	}
	g.must(s.Path("app"), "fsck", "--strict")
}

func TestCommitBuilderErrors(t *testing.T) {
	t.Parallel()
	s := New(t, Options{})
	s.InitRepo("app")
	if _, err := s.Commit("missing").File("a", "a").Do(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("commit to a missing repository: %v", err)
	}
	if _, err := s.Commit("app").Parent("nope").File("a", "a").Do(); err == nil {
		t.Fatal("commit on an unknown parent succeeded")
	}
	if _, err := s.Commit("app").File(".git/config", "x").Do(); err == nil {
		t.Fatal("writing into .git succeeded")
	}
	if _, err := s.Commit("app").ToRef("main").File("a", "a").Do(); err == nil {
		t.Fatal("a ref name without refs/ was accepted")
	}
	if err := s.Init("../escape"); err == nil {
		t.Fatal("repository name with .. accepted")
	}
}

func TestSubmodule(t *testing.T) {
	t.Parallel()
	s := New(t, Options{})
	s.InitRepo("lib")
	s.InitRepo("app")
	lib := s.Commit("lib").File("lib.txt", "lib").MustDo(t)
	s.Commit("app").File("app.txt", "app").Submodule("vendor/lib", s.RepoURL("lib"), lib).MustDo(t)

	g := newGitCLI(t, "GIT_ALLOW_PROTOCOL=http:https:file")
	dir := cloneCLI(t, g, s, "app", "--recurse-submodules")
	if got := readFile(t, filepath.Join(dir, "vendor/lib/lib.txt")); got != "lib" {
		t.Fatalf("submodule file = %q", got)
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, ".gitmodules")), s.RepoURL("lib")) {
		t.Fatal(".gitmodules does not name the submodule URL")
	}
}

func TestSignedObjectsVerifyWithGit(t *testing.T) {
	t.Parallel()
	s := New(t, Options{})
	s.InitRepo("app")
	pgp, err := NewOpenPGPKey("Signer", "signer@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sshKey, err := NewSSHSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	pgpCommit := s.Commit("app").File("a", "1").Sign(pgp).MustDo(t)
	sshCommit := s.Commit("app").File("a", "2").Sign(sshKey).MustDo(t)
	unsigned := s.Commit("app").File("a", "3").MustDo(t)
	if _, err := s.AnnotatedTag("app", "pgp", pgpCommit, TagOptions{Signer: pgp}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AnnotatedTag("app", "ssh", sshCommit, TagOptions{Signer: sshKey, Message: "ssh signed"}); err != nil {
		t.Fatal(err)
	}

	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatal("gpg not found: install gnupg (make test-deps)")
	}
	gnupg, err := os.MkdirTemp("", "gpg") // short: gpg-agent socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(gnupg) })
	pub, err := pgp.PublicKeyArmored()
	if err != nil {
		t.Fatal(err)
	}
	allowed := writeTemp(t, "allowed_signers", []byte("signer@example.com "+string(sshKey.AuthorizedKey())))
	gpg := exec.Command("gpg", "--batch", "--import")
	gpg.Env = append(os.Environ(), "GNUPGHOME="+gnupg)
	gpg.Stdin = strings.NewReader(pub)
	if out, err := gpg.CombinedOutput(); err != nil {
		t.Fatalf("gpg --import: %v: %s", err, out)
	}
	t.Cleanup(func() {
		kill := exec.Command("gpgconf", "--kill", "gpg-agent")
		kill.Env = gpg.Env
		_ = kill.Run()
	})
	g := newGitCLI(t, "GNUPGHOME="+gnupg)
	cmd := []string{"-c", "gpg.ssh.allowedSignersFile=" + allowed}
	repo := s.Path("app")
	for _, args := range [][]string{
		{"verify-commit", pgpCommit},
		{"verify-commit", sshCommit},
		{"verify-tag", "pgp"},
		{"verify-tag", "ssh"},
	} {
		if out, err := g.run(repo, append(cmd, args...)...); err != nil {
			t.Errorf("git %v: %v\n%s", args, err, out)
		}
	}
	if _, err := g.run(repo, append(cmd, "verify-commit", unsigned)...); err == nil {
		t.Error("git verify-commit accepted an unsigned commit")
	}
	if !strings.HasPrefix(sshKey.Fingerprint(), "SHA256:") || len(pgp.KeyID()) != 16 {
		t.Errorf("fingerprint %q / key ID %q have unexpected formats", sshKey.Fingerprint(), pgp.KeyID())
	}
}
