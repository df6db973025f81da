package githubapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"gotk.dev/internal/testing/gitserver"
)

const token = "ghp_test0123456789"

// fixture is a fake API in front of real Git servers (HTTP and SSH over one root).
type fixture struct {
	api  *Server
	git  *gitserver.Server
	ssh  *gitserver.SSHServer
	http *http.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	g := gitserver.New(t, gitserver.Options{Root: root})
	sshSrv := gitserver.NewSSH(t, gitserver.SSHOptions{Root: root})
	api := New(t, Options{Token: token, Orgs: []string{"fleet"}, Git: g, SSH: sshSrv})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(api.CACert())
	return &fixture{api: api, git: g, ssh: sshSrv,
		http: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

// call makes an API request with auth ("" for none) and returns the status and body.
func (f *fixture) call(t *testing.T, method, path, auth string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.api.APIURL()+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(bytes.TrimSpace(data)) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, out
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	good, bad := "token "+token, "token wrong"
	steps := []struct {
		name, method, path, auth string
		body                     any
		status                   int
		field, value             string // a top-level string field of the answer
	}{
		{"user without token", "GET", "user", "", nil, 401, "message", "Requires authentication"},
		{"user with a wrong token", "GET", "user", bad, nil, 401, "message", "Bad credentials"},
		{"user", "GET", "user", good, nil, 200, "login", DefaultLogin},
		{"bearer token", "GET", "user", "Bearer " + token, nil, 200, "login", DefaultLogin},
		{"missing repository", "GET", "repos/" + DefaultLogin + "/app", good, nil, 404, "message", "Not Found"},
		{"wrong token on a public endpoint", "GET", "repos/" + DefaultLogin + "/app", bad, nil, 401, "message", "Bad credentials"},
		{"create without token", "POST", "user/repos", "", map[string]any{"name": "app"}, 401, "message", "Requires authentication"},
		{"create personal", "POST", "user/repos", good, map[string]any{"name": "app", "private": true, "auto_init": true}, 201, "full_name", DefaultLogin + "/app"},
		{"create twice", "POST", "user/repos", good, map[string]any{"name": "app"}, 422, "message", "Repository creation failed."},
		{"invalid name", "POST", "user/repos", good, map[string]any{"name": "a b"}, 422, "message", "Repository creation failed."},
		{"private repository anonymously", "GET", "repos/" + DefaultLogin + "/app", "", nil, 404, "message", "Not Found"},
		{"get (case-insensitive)", "GET", "repos/" + strings.ToUpper(DefaultLogin) + "/APP", good, nil, 200, "default_branch", "main"},
		{"unknown org", "POST", "orgs/other/repos", good, map[string]any{"name": "app"}, 404, "message", "Not Found"},
		{"org", "GET", "orgs/fleet", good, nil, 200, "login", "fleet"},
		{"create in org", "POST", "orgs/fleet/repos", good, map[string]any{"name": "infra", "visibility": "public"}, 201, "visibility", "public"},
		{"public repository anonymously", "GET", "repos/fleet/infra", "", nil, 200, "clone_url", f.api.URL() + "/fleet/infra.git"},
		{"unknown endpoint", "GET", "repos/fleet/infra/hooks", good, nil, 404, "message", "Not Found"},
	}
	for _, s := range steps {
		status, body := f.call(t, s.method, s.path, s.auth, s.body)
		if status != s.status || body[s.field] != s.value {
			t.Errorf("%s: %s %s = %d %s=%v, want %d %q (%v)", s.name, s.method, s.path, status, s.field, body[s.field], s.status, s.value, body)
		}
	}
	r, ok := f.api.Repository(DefaultLogin, "app")
	if !ok || !r.Private {
		t.Errorf("Repository(app) = %+v, %v", r, ok)
	}
	if _, err := f.git.Resolve(DefaultLogin+"/app", "main"); err != nil {
		t.Errorf("auto_init made no commit: %v", err)
	}
	if _, err := f.git.Resolve("fleet/infra", "main"); err == nil {
		t.Error("a repository created without auto_init has a commit")
	}
	calls := f.api.Calls()
	if len(calls) != len(steps) || calls[0].String() != "GET /api/v3/user 401" {
		t.Errorf("calls = %v", calls)
	}
}

// gitCmd runs the git CLI with the test CA trusted and returns its combined output.
func (f *fixture) gitCmd(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, f.api.CACert(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_SSL_CAINFO="+ca, "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// commitFile makes a commit in the clone at dir.
func (f *fixture) commitFile(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"add", name}, {"commit", "-q", "-m", "add " + name}} {
		if out, err := f.gitCmd(t, dir, nil, args...); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
}

func TestGitOverHTTPS(t *testing.T) {
	f := newFixture(t)
	if _, err := f.api.create(DefaultLogin, "private", "", true, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.api.create("fleet", "public", "", false, true); err != nil {
		t.Fatal(err)
	}
	withToken := func(repo, tok string) string {
		return strings.Replace(f.api.URL(), "https://", "https://x-access-token:"+tok+"@", 1) + "/" + repo + ".git"
	}
	cases := []struct {
		name, url string
		push      bool
		wantErr   string
	}{
		{"clone private with token and push", withToken(DefaultLogin+"/private", token), true, ""},
		// The git CLI asks for credentials after a 401 without any.
		{"clone private anonymously", f.api.URL() + "/" + DefaultLogin + "/private.git", false, "could not read username"},
		{"clone private with a wrong token", withToken(DefaultLogin+"/private", "nope"), false, "invalid username or token"},
		{"clone public anonymously, push refused", f.api.URL() + "/fleet/public.git", true, "could not read username"},
		{"unknown repository", withToken("fleet/none", token), false, "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "clone")
			out, err := f.gitCmd(t, "", nil, "clone", "-q", c.url, dir)
			if err == nil && c.push {
				f.commitFile(t, dir, "pushed.txt")
				out, err = f.gitCmd(t, dir, nil, "push", "-q", "origin", "HEAD:main")
			}
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(strings.ToLower(out), c.wantErr) {
				t.Fatalf("want an error with %q, got %v: %s", c.wantErr, err, out)
			}
			if strings.Contains(out, token) {
				t.Error("the token was printed")
			}
		})
	}
}

// newKey returns an ed25519 private key file path and its authorized_keys line.
func newKey(t *testing.T) (string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return path, string(ssh.MarshalAuthorizedKey(pub))
}

// sshEnv makes git use only key and trust only the fixture's SSH server.
func (f *fixture) sshEnv(t *testing.T, key string) []string {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, f.ssh.KnownHosts(), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{fmt.Sprintf("GIT_SSH_COMMAND=ssh -i %s -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o BatchMode=yes", key, kh)}
}

func TestDeployKeys(t *testing.T) {
	f := newFixture(t)
	good := "token " + token
	for _, name := range []string{"app", "other"} {
		if status, body := f.call(t, "POST", "user/repos", good, map[string]any{"name": name, "auto_init": true}); status != 201 {
			t.Fatalf("create %s: %d %v", name, status, body)
		}
	}
	roKey, roPub := newKey(t)
	rwKey, rwPub := newKey(t)
	sshURL := func(repo string) string { return f.ssh.RepoURL(DefaultLogin + "/" + repo) }
	keysPath := "repos/" + DefaultLogin + "/app/keys"

	if status, body := f.call(t, "POST", keysPath, good, map[string]any{"title": "ro", "key": roPub, "read_only": true}); status != 201 || body["read_only"] != true {
		t.Fatalf("add read-only key: %d %v", status, body)
	}
	status, body := f.call(t, "POST", keysPath, good, map[string]any{"title": "rw", "key": rwPub})
	if status != 201 || body["read_only"] != false {
		t.Fatalf("add read-write key: %d %v", status, body)
	}
	rwID := int64(body["id"].(float64))
	if status, body := f.call(t, "POST", "repos/"+DefaultLogin+"/other/keys", good, map[string]any{"title": "again", "key": roPub}); status != 422 {
		t.Errorf("a key in use was accepted: %d %v", status, body)
	}
	if status, _ := f.call(t, "POST", keysPath, good, map[string]any{"title": "bad", "key": "ssh-ed25519 nope"}); status != 422 {
		t.Errorf("an invalid key: %d, want 422", status)
	}
	if r, _ := f.api.Repository(DefaultLogin, "app"); len(r.DeployKeys) != 2 || r.DeployKeys[0].Title != "ro" {
		t.Errorf("deploy keys = %+v", r.DeployKeys)
	}

	clone := func(t *testing.T, key, repo string) (string, string, error) {
		dir := filepath.Join(t.TempDir(), "clone")
		out, err := f.gitCmd(t, "", f.sshEnv(t, key), "clone", "-q", sshURL(repo), dir)
		return dir, out, err
	}
	push := func(t *testing.T, key, dir string) (string, error) {
		f.commitFile(t, dir, filepath.Base(t.Name())+".txt")
		return f.gitCmd(t, dir, f.sshEnv(t, key), "push", "-q", "origin", "HEAD:main")
	}
	t.Run("read-only key fetches but cannot push", func(t *testing.T) {
		dir, out, err := clone(t, roKey, "app")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if out, err := push(t, roKey, dir); err == nil || !strings.Contains(out, "marked as read only") {
			t.Fatalf("push: %v: %s", err, out)
		}
	})
	t.Run("read-write key pushes", func(t *testing.T) {
		dir, out, err := clone(t, rwKey, "app")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if out, err := push(t, rwKey, dir); err != nil {
			t.Fatalf("push: %v: %s", err, out)
		}
	})
	t.Run("a deploy key reaches only its repository", func(t *testing.T) {
		if _, out, err := clone(t, rwKey, "other"); err == nil || !strings.Contains(out, "Repository not found") {
			t.Fatalf("%v: %s", err, out)
		}
	})
	t.Run("a deleted key is revoked", func(t *testing.T) {
		if status, _ := f.call(t, "DELETE", fmt.Sprintf("%s/%d", keysPath, rwID), good, nil); status != 204 {
			t.Fatalf("delete: %d", status)
		}
		if status, _ := f.call(t, "GET", fmt.Sprintf("%s/%d", keysPath, rwID), good, nil); status != 404 {
			t.Errorf("get deleted key: %d", status)
		}
		if _, out, err := clone(t, rwKey, "app"); err == nil || !strings.Contains(out, "revoked") {
			t.Fatalf("%v: %s", err, out)
		}
		// The key may be registered again, on another repository.
		if status, body := f.call(t, "POST", "repos/"+DefaultLogin+"/other/keys", good, map[string]any{"title": "moved", "key": rwPub}); status != 201 {
			t.Fatalf("re-add: %d %v", status, body)
		}
		if _, out, err := clone(t, rwKey, "other"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	})
}
