package gitserver

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHTTPAuthModes(t *testing.T) {
	t.Parallel()
	withUser := func(raw, user, pass string) string {
		u, _ := url.Parse(raw)
		u.User = url.UserPassword(user, pass)
		return u.String()
	}
	tests := []struct {
		name string
		opts Options
		// ok and bad build the ls-remote arguments for a client with the
		// right and with wrong credentials.
		ok  func(s *Server, repoURL string) (string, []string, []string)
		bad func(s *Server, repoURL string) (string, []string, []string)
	}{
		{
			name: "anonymous",
			ok:   func(s *Server, u string) (string, []string, []string) { return u, nil, nil },
		},
		{
			name: "basic auth",
			opts: Options{Username: "alice", Password: "s3cret"},
			ok: func(s *Server, u string) (string, []string, []string) {
				return withUser(u, "alice", "s3cret"), nil, nil
			},
			bad: func(s *Server, u string) (string, []string, []string) {
				return withUser(u, "alice", "wrong"), nil, nil
			},
		},
		{
			name: "bearer token",
			opts: Options{BearerToken: "tok-123"},
			ok: func(s *Server, u string) (string, []string, []string) {
				return u, []string{"-c", "http.extraHeader=Authorization: Bearer tok-123"}, nil
			},
			bad: func(s *Server, u string) (string, []string, []string) {
				return u, []string{"-c", "http.extraHeader=Authorization: Bearer nope"}, nil
			},
		},
		{
			name: "tls",
			opts: Options{TLS: true},
			ok: func(s *Server, u string) (string, []string, []string) {
				return u, nil, []string{"GIT_SSL_CAINFO=" + writeTemp(t, "ca.crt", s.CACert())}
			},
			bad: func(s *Server, u string) (string, []string, []string) {
				return u, nil, nil // system roots do not trust the test CA
			},
		},
		{
			name: "mtls",
			opts: Options{MTLS: true},
			ok: func(s *Server, u string) (string, []string, []string) {
				return u, nil, []string{
					"GIT_SSL_CAINFO=" + writeTemp(t, "ca.crt", s.CACert()),
					"GIT_SSL_CERT=" + writeTemp(t, "tls.crt", s.ClientCert()),
					"GIT_SSL_KEY=" + writeTemp(t, "tls.key", s.ClientKey()),
				}
			},
			bad: func(s *Server, u string) (string, []string, []string) {
				return u, nil, []string{"GIT_SSL_CAINFO=" + writeTemp(t, "ca.crt", s.CACert())}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, tt.opts)
			repoURL, err := s.InitRepo("org/app")
			if err != nil {
				t.Fatal(err)
			}
			if want := s.URL() + "/org/app.git"; repoURL != want {
				t.Fatalf("InitRepo URL = %q, want %q", repoURL, want)
			}
			if (tt.opts.TLS || tt.opts.MTLS) != strings.HasPrefix(repoURL, "https://") {
				t.Fatalf("URL %q has the wrong scheme", repoURL)
			}
			hash := s.Commit("org/app").File("a.txt", "a").MustDo(t)

			u, args, env := tt.ok(s, repoURL)
			refs, err := newGitCLI(t, env...).lsRemote(u, args...)
			if err != nil {
				t.Fatalf("ls-remote with valid credentials: %v", err)
			}
			if refs["refs/heads/main"] != hash || refs["HEAD"] != hash {
				t.Fatalf("ls-remote = %v, want main and HEAD at %s", refs, hash)
			}
			if got := s.Requests().InfoRefs; got < 1 {
				t.Fatalf("InfoRefs count = %d, want >= 1", got)
			}
			if tt.bad == nil {
				return
			}
			u, args, env = tt.bad(s, repoURL)
			if _, err := newGitCLI(t, env...).lsRemote(u, args...); err == nil {
				t.Fatal("ls-remote with wrong credentials succeeded")
			}
		})
	}
}

func TestHTTPPushAndReadOnly(t *testing.T) {
	t.Parallel()
	for _, readOnly := range []bool{false, true} {
		s := New(t, Options{ReadOnly: readOnly, Username: "u", Password: "p"})
		if _, err := s.InitRepo("app"); err != nil {
			t.Fatal(err)
		}
		s.Commit("app").File("README", "hi").MustDo(t)
		u, _ := url.Parse(s.RepoURL("app"))
		u.User = url.UserPassword("u", "p")

		g := newGitCLI(t)
		dir := filepath.Join(t.TempDir(), "clone")
		g.must("", "clone", "-q", u.String(), dir)
		if err := os.WriteFile(filepath.Join(dir, "new.txt"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		g.must(dir, "add", "-A")
		g.must(dir, "commit", "-q", "-m", "from cli")
		out, err := g.run(dir, "push", "-q", "origin", "HEAD:refs/heads/feature")
		if readOnly {
			if err == nil {
				t.Fatal("push to a read-only server succeeded")
			}
			continue
		}
		if err != nil {
			t.Fatalf("push: %v: %s", err, out)
		}
		pushed := g.must(dir, "rev-parse", "HEAD")
		if got, err := s.Resolve("app", "feature"); err != nil || got != pushed {
			t.Fatalf("server feature = %q, %v; want %s", got, err, pushed)
		}
		if s.Requests().ReceivePack == 0 {
			t.Fatal("push was not counted")
		}
	}
}

func TestHTTPStopRestart(t *testing.T) {
	t.Parallel()
	s := New(t, Options{})
	repoURL, _ := s.InitRepo("app")
	s.Commit("app").File("f", "1").MustDo(t)
	g := newGitCLI(t)
	if _, err := g.lsRemote(repoURL); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := g.lsRemote(repoURL); err == nil {
		t.Fatal("ls-remote succeeded while the server was stopped")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.RepoURL("app") != repoURL {
		t.Fatalf("URL changed on restart: %s -> %s", repoURL, s.RepoURL("app"))
	}
	if _, err := g.lsRemote(repoURL); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		s := New(t, Options{TLS: tls})
		repoURL, _ := s.InitRepo("app")
		s.Commit("app").File("f", "1").MustDo(t)
		p := NewProxy(t, ProxyOptions{Username: "pu", Password: "pp"})

		pu, _ := url.Parse(p.URL())
		var env []string
		if tls {
			env = append(env, "GIT_SSL_CAINFO="+writeTemp(t, "ca.crt", s.CACert()))
		}
		g := newGitCLI(t, env...)
		if _, err := g.lsRemote(repoURL, "-c", "http.proxy="+pu.String()); err == nil {
			t.Fatal("proxy accepted a request without credentials")
		}
		if p.Denied() == 0 {
			t.Fatal("denied request not counted")
		}
		pu.User = url.UserPassword("pu", "pp")
		if _, err := g.lsRemote(repoURL, "-c", "http.proxy="+pu.String()); err != nil {
			t.Fatalf("ls-remote through proxy (tls=%v): %v", tls, err)
		}
		if p.Served() == 0 {
			t.Fatalf("proxy served nothing (tls=%v)", tls)
		}
	}
}
