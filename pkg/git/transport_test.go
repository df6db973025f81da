package git

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"gotk.dev/internal/testing/gitserver"
)

func secretData(kv ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

// cloneMain clones branch main and returns the revision or the error.
func cloneMain(t *testing.T, c *Client, repoURL string, data map[string][]byte) (string, error) {
	t.Helper()
	auth, err := NewAuthOptions(mustURL(t, repoURL), data)
	if err != nil {
		return "", err
	}
	commit, err := c.Clone(context.Background(), repoURL, t.TempDir(), auth, CheckoutRef{Branch: "main"}, CloneOptions{ShallowIfPossible: true})
	if err != nil {
		return "", err
	}
	return commit.String(), nil
}

func TestHTTPAuthentication(t *testing.T) {
	t.Parallel()
	const password, token = "http-pass-123", "bearer-token-456"
	tests := []struct {
		name   string
		opts   gitserver.Options
		good   func(s *gitserver.Server) map[string][]byte
		bad    func(s *gitserver.Server) map[string][]byte
		badErr string
	}{
		{
			name: "basic",
			opts: gitserver.Options{Username: "alice", Password: password},
			good: func(*gitserver.Server) map[string][]byte {
				return secretData("username", "alice", "password", password)
			},
			bad: func(*gitserver.Server) map[string][]byte {
				return secretData("username", "alice", "password", "wrong-pass")
			},
			badErr: "authentication required",
		},
		{
			name:   "bearer",
			opts:   gitserver.Options{BearerToken: token},
			good:   func(*gitserver.Server) map[string][]byte { return secretData("bearerToken", token) },
			bad:    func(*gitserver.Server) map[string][]byte { return nil },
			badErr: "authentication required",
		},
		{
			name:   "tls with ca.crt",
			opts:   gitserver.Options{TLS: true},
			good:   func(s *gitserver.Server) map[string][]byte { return map[string][]byte{"ca.crt": s.CACert()} },
			bad:    func(*gitserver.Server) map[string][]byte { return nil },
			badErr: "certificate",
		},
		{
			name: "tls with legacy caFile",
			opts: gitserver.Options{TLS: true, Username: "u", Password: password},
			good: func(s *gitserver.Server) map[string][]byte {
				return map[string][]byte{"caFile": s.CACert(), "username": []byte("u"), "password": []byte(password)}
			},
			bad:    func(s *gitserver.Server) map[string][]byte { return map[string][]byte{"ca.crt": s.CACert()} },
			badErr: "authentication required",
		},
		{
			name: "mtls",
			opts: gitserver.Options{MTLS: true},
			good: func(s *gitserver.Server) map[string][]byte {
				return map[string][]byte{"ca.crt": s.CACert(), "tls.crt": s.ClientCert(), "tls.key": s.ClientKey()}
			},
			bad:    func(s *gitserver.Server) map[string][]byte { return map[string][]byte{"ca.crt": s.CACert()} },
			badErr: "certificate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := gitserver.New(t, tt.opts)
			repoURL, _ := s.InitRepo("app")
			hash := s.Commit("app").File("a", "a").MustDo(t)
			c := NewClient(ClientOptions{})
			rev, err := cloneMain(t, c, repoURL, tt.good(s))
			if err != nil {
				t.Fatalf("clone with valid credentials: %v", err)
			}
			if rev != "main@sha1:"+hash {
				t.Fatalf("revision = %s", rev)
			}
			_, err = cloneMain(t, c, repoURL, tt.bad(s))
			if err == nil || !strings.Contains(err.Error(), tt.badErr) {
				t.Fatalf("clone with wrong credentials: err = %v, want %q", err, tt.badErr)
			}
			for _, secret := range []string{password, token, "wrong-pass"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error leaks a secret: %v", err)
				}
			}
		})
	}
}

func TestCredentialsNeverInErrors(t *testing.T) {
	t.Parallel()
	s := gitserver.New(t, gitserver.Options{Username: "u", Password: "correct-horse"})
	s.InitRepo("app")
	s.Commit("app").File("a", "a").MustDo(t)
	c := NewClient(ClientOptions{})

	// Credentials embedded in the URL, wrong ones, a missing branch and an
	// unreachable server: no message may carry the password or userinfo.
	u, _ := url.Parse(s.RepoURL("app"))
	u.User = url.UserPassword("u", "battery-staple")
	withWrong := u.String()
	u.User = url.UserPassword("u", "correct-horse")
	withRight := u.String()
	cases := []struct {
		url string
		ref CheckoutRef
	}{
		{withWrong, CheckoutRef{Branch: "main"}},
		{withRight, CheckoutRef{Branch: "missing"}},
		{withRight, CheckoutRef{SemVer: ">=9"}},
		{strings.Replace(withRight, s.Addr(), "127.0.0.1:1", 1), CheckoutRef{Branch: "main"}},
	}
	for _, tc := range cases {
		_, cloneErr := c.Clone(context.Background(), tc.url, t.TempDir(), nil, tc.ref, CloneOptions{})
		_, resolveErr := c.ResolveRef(context.Background(), tc.url, nil, tc.ref)
		for _, err := range []error{cloneErr, resolveErr} {
			if err == nil {
				t.Fatalf("%v succeeded", tc.ref)
			}
			for _, leak := range []string{"correct-horse", "battery-staple", "u:"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error leaks %q: %v", leak, err)
				}
			}
		}
	}
	// Credentials in the URL work, and never reach .git/config.
	dir := t.TempDir()
	if _, err := c.Clone(context.Background(), withRight, dir, nil, CheckoutRef{Branch: "main"}, CloneOptions{}); err != nil {
		t.Fatal(err)
	}
	if cfg := readFile(t, filepath.Join(dir, ".git", "config")); strings.Contains(cfg, "correct-horse") {
		t.Fatalf(".git/config stores the password:\n%s", cfg)
	}
	// errors.Is still sees through the scrubbed error.
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := c.ResolveRef(ctx, withRight, nil, CheckoutRef{Branch: "main"})
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("expired context: %v", err)
	}
}

func TestSSH(t *testing.T) {
	t.Parallel()
	s := gitserver.NewSSH(t, gitserver.SSHOptions{HostKeyTypes: []string{"ed25519", "ecdsa"}})
	other := gitserver.NewSSH(t, gitserver.SSHOptions{})
	repoURL, err := s.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	hash := s.Commit("app").File("a", "a").MustDo(t)
	ecdsaOnly := knownhosts.Line([]string{s.Addr()}, s.HostKeys()[1]) + "\n"
	wrongKey := knownhosts.Line([]string{s.Addr()}, other.HostKeys()[0]) + "\n"
	otherHost := knownhosts.Line([]string{"example.com"}, s.HostKeys()[0]) + "\n"
	hashed := knownhosts.HashHostname(knownhosts.Normalize(s.Addr())) + " " + authorized(s.HostKeys()[0]) + "\n"

	tests := []struct {
		name       string
		identity   []byte
		knownHosts string
		wantErr    string
	}{
		{"all host keys", s.ClientKey(), string(s.KnownHosts()), ""},
		{"only the second host key type is known", s.ClientKey(), ecdsaOnly, ""},
		{"hashed known_hosts", s.ClientKey(), hashed, ""},
		{"wrong host key", s.ClientKey(), wrongKey, "host key mismatch for [127.0.0.1]:"},
		{"host not in known_hosts", s.ClientKey(), otherHost, "known_hosts has no entry for host [127.0.0.1]:"},
		{"unauthorized identity", other.ClientKey(), string(s.KnownHosts()), "unable to authenticate"},
		{"missing known_hosts", s.ClientKey(), "", "'known_hosts' is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := map[string][]byte{"identity": tt.identity}
			if tt.knownHosts != "" {
				data["known_hosts"] = []byte(tt.knownHosts)
			}
			rev, err := cloneMain(t, NewClient(ClientOptions{}), repoURL, data)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("clone: %v\nsshd log:\n%s", err, s.Log())
				}
				if rev != "main@sha1:"+hash {
					t.Fatalf("revision = %s", rev)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Fatalf("error leaks the identity: %v", err)
			}
		})
	}

	// ResolveRef and Push work over SSH too.
	auth, err := NewAuthOptions(mustURL(t, repoURL), map[string][]byte{"identity": s.ClientKey(), "known_hosts": s.KnownHosts()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewClient(ClientOptions{}).ResolveRef(context.Background(), repoURL, auth, CheckoutRef{Branch: "main"})
	if err != nil || res.Hash != hash {
		t.Fatalf("ResolveRef over ssh = %v, %v", res, err)
	}
}

func TestSSHEncryptedIdentity(t *testing.T) {
	t.Parallel()
	s := gitserver.NewSSH(t, gitserver.SSHOptions{})
	repoURL, _ := s.InitRepo("app")
	s.Commit("app").File("a", "a").MustDo(t)
	key, pub := encryptedKey(t, "key-passphrase")
	if err := s.AuthorizeKey(pub); err != nil {
		t.Fatal(err)
	}
	c := NewClient(ClientOptions{})
	if _, err := cloneMain(t, c, repoURL, map[string][]byte{"identity": key, "password": []byte("key-passphrase"), "known_hosts": s.KnownHosts()}); err != nil {
		t.Fatalf("clone with an encrypted identity: %v", err)
	}
	_, err := cloneMain(t, c, repoURL, map[string][]byte{"identity": key, "password": []byte("not-the-passphrase"), "known_hosts": s.KnownHosts()})
	if err == nil || !strings.Contains(err.Error(), "invalid 'identity'") || strings.Contains(err.Error(), "not-the-passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		s := gitserver.New(t, gitserver.Options{TLS: tls})
		repoURL, _ := s.InitRepo("app")
		hash := s.Commit("app").File("a", "a").MustDo(t)
		p := gitserver.NewProxy(t, gitserver.ProxyOptions{Username: "pu", Password: "proxy-pass"})
		var data map[string][]byte
		if tls {
			data = map[string][]byte{"ca.crt": s.CACert()}
		}

		good, err := NewProxyOptions(secretData("address", p.URL(), "username", "pu", "password", "proxy-pass"))
		if err != nil {
			t.Fatal(err)
		}
		rev, err := cloneMain(t, NewClient(ClientOptions{Proxy: good}), repoURL, data)
		if err != nil {
			t.Fatalf("tls=%v: clone through the proxy: %v", tls, err)
		}
		if rev != "main@sha1:"+hash || p.Served() == 0 {
			t.Fatalf("tls=%v: revision %s, proxy served %d", tls, rev, p.Served())
		}

		bad := &ProxyOptions{URL: p.URL(), Username: "pu", Password: "wrong-proxy-pass"}
		_, err = cloneMain(t, NewClient(ClientOptions{Proxy: bad}), repoURL, data)
		if err == nil || p.Denied() == 0 {
			t.Fatalf("tls=%v: wrong proxy password: err=%v denied=%d", tls, err, p.Denied())
		}
		if strings.Contains(err.Error(), "wrong-proxy-pass") {
			t.Fatalf("error leaks the proxy password: %v", err)
		}
	}
	// An HTTP proxy cannot carry SSH.
	_, err := NewClient(ClientOptions{Proxy: &ProxyOptions{URL: "http://127.0.0.1:1"}}).ResolveRef(context.Background(),
		"ssh://git@127.0.0.1:1/r", &AuthOptions{Transport: SSH, Host: "127.0.0.1:1", Username: "git", Identity: []byte("x"), KnownHosts: []byte(testKnownHosts)}, CheckoutRef{})
	if err == nil || !strings.Contains(err.Error(), "socks5") {
		t.Fatalf("ssh through an http proxy: %v", err)
	}
}

// encryptedKey returns a passphrase-protected OpenSSH private key and its
// authorized_keys line.
func encryptedKey(t *testing.T, passphrase string) (pemBytes, authorizedKey []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), ssh.MarshalAuthorizedKey(sshPub)
}

// TestSSHAlgorithms: --ssh-kex-algos and --ssh-hostkey-algos restrict what the client
// offers: an algorithm the server supports connects, one it lacks fails the handshake.
func TestSSHAlgorithms(t *testing.T) {
	t.Parallel()
	s := gitserver.NewSSH(t, gitserver.SSHOptions{HostKeyTypes: []string{"ed25519", "ecdsa"}})
	repoURL, err := s.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	s.Commit("app").File("a", "a").MustDo(t)
	data := map[string][]byte{"identity": s.ClientKey(), "known_hosts": s.KnownHosts()}
	for _, tc := range []struct {
		name          string
		opts          ClientOptions
		wantErrSubstr string
	}{
		{"kex supported", ClientOptions{SSHKeyExchanges: []string{"curve25519-sha256"}}, ""},
		{"host key ecdsa", ClientOptions{SSHHostKeyAlgorithms: []string{ssh.KeyAlgoECDSA256}}, ""},
		{"kex unsupported", ClientOptions{SSHKeyExchanges: []string{"diffie-hellman-group1-sha1"}}, "handshake"},
		{"host key rsa (server has none)", ClientOptions{SSHHostKeyAlgorithms: []string{ssh.KeyAlgoRSASHA256}}, "handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cloneMain(t, NewClient(tc.opts), repoURL, data)
			if tc.wantErrSubstr == "" && err != nil {
				t.Fatalf("clone: %v", err)
			}
			if tc.wantErrSubstr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErrSubstr)) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErrSubstr)
			}
		})
	}
}
