package gitserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"
)

func sshCommand(t *testing.T, key, knownHosts []byte) string {
	return "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes" +
		" -o UserKnownHostsFile=" + writeTemp(t, "known_hosts", knownHosts) +
		" -i " + writeTemp(t, "id", key)
}

func TestSSHCloneAndPush(t *testing.T) {
	t.Parallel()
	s := NewSSH(t, SSHOptions{HostKeyTypes: []string{"ed25519", "ecdsa"}})
	repoURL, err := s.InitRepo("org/app")
	if err != nil {
		t.Fatal(err)
	}
	if want := "ssh://" + s.User() + "@" + s.Addr() + s.Dir() + "/org/app.git"; repoURL != want {
		t.Fatalf("RepoURL = %q, want %q", repoURL, want)
	}
	if lines := strings.Count(string(s.KnownHosts()), "\n"); lines != 2 {
		t.Fatalf("KnownHosts has %d lines, want one per host key:\n%s", lines, s.KnownHosts())
	}
	if !strings.HasPrefix(string(s.KnownHosts()), "["+strings.Replace(s.Addr(), ":", "]:", 1)+" ") {
		t.Fatalf("KnownHosts does not name [127.0.0.1]:port: %s", s.KnownHosts())
	}
	hash := s.Commit("org/app").File("a", "a").MustDo(t)

	g := newGitCLI(t, "GIT_SSH_COMMAND="+sshCommand(t, s.ClientKey(), s.KnownHosts()))
	refs, err := g.lsRemote(repoURL)
	if err != nil {
		t.Fatalf("ls-remote over ssh: %v\nsshd log:\n%s", err, s.Log())
	}
	if refs["refs/heads/main"] != hash {
		t.Fatalf("refs = %v, want main at %s", refs, hash)
	}

	dir := filepath.Join(t.TempDir(), "clone")
	g.must("", "clone", "-q", repoURL, dir)
	if err := os.WriteFile(filepath.Join(dir, "b"), []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.must(dir, "add", "-A")
	g.must(dir, "commit", "-q", "-m", "b")
	g.must(dir, "push", "-q", "origin", "HEAD:main")
	if got, _ := s.Resolve("org/app", "main"); got != g.must(dir, "rev-parse", "HEAD") {
		t.Fatalf("push over ssh did not move main (now %s)", got)
	}
}

func TestSSHRejects(t *testing.T) {
	t.Parallel()
	s := NewSSH(t, SSHOptions{})
	other := NewSSH(t, SSHOptions{})
	repoURL, _ := s.InitRepo("app")
	s.Commit("app").File("a", "a").MustDo(t)

	tests := []struct {
		name       string
		key        []byte
		knownHosts []byte
	}{
		{"unknown client key", other.ClientKey(), s.KnownHosts()},
		{"wrong host key", s.ClientKey(), []byte(knownhosts.Line([]string{s.Addr()}, other.HostKeys()[0]) + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitCLI(t, "GIT_SSH_COMMAND="+sshCommand(t, tt.key, tt.knownHosts))
			if _, err := g.lsRemote(repoURL); err == nil {
				t.Fatal("ls-remote succeeded")
			}
		})
	}

	// A key authorized later is accepted.
	g := newGitCLI(t, "GIT_SSH_COMMAND="+sshCommand(t, other.ClientKey(), s.KnownHosts()))
	if err := s.AuthorizeKey(other.ClientPublicKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := g.lsRemote(repoURL); err != nil {
		t.Fatalf("ls-remote with a newly authorized key: %v", err)
	}
}

func TestSSHSharedRoot(t *testing.T) {
	t.Parallel()
	h := New(t, Options{})
	s := NewSSH(t, SSHOptions{Root: h.Dir()})
	h.InitRepo("app")
	hash := h.Commit("app").File("a", "a").MustDo(t)
	g := newGitCLI(t, "GIT_SSH_COMMAND="+sshCommand(t, s.ClientKey(), s.KnownHosts()))
	refs, err := g.lsRemote(s.RepoURL("app"))
	if err != nil || refs["refs/heads/main"] != hash {
		t.Fatalf("ssh view of the HTTP server's repository: %v, %v", refs, err)
	}
}
