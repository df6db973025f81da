package oci

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestKeychainFromDockerConfigs(t *testing.T) {
	t.Parallel()
	type want struct {
		repo      string // repository to resolve
		user, pwd string // empty user: anonymous
		token     string
	}
	tests := []struct {
		name    string
		configs []string
		wants   []want
	}{
		{
			name:    "auth field, bare host",
			configs: []string{`{"auths":{"ghcr.io":{"auth":"` + b64("alice:pw:with:colons") + `"}}}`},
			wants: []want{
				{repo: "ghcr.io/org/app", user: "alice", pwd: "pw:with:colons"},
				{repo: "quay.io/org/app"},
				{repo: "ghcr.io.evil.com/org/app"},
			},
		},
		{
			name:    "unpadded auth field",
			configs: []string{`{"auths":{"ghcr.io":{"auth":"` + strings.TrimRight(b64("bob:x"), "=") + `"}}}`},
			wants:   []want{{repo: "ghcr.io/a", user: "bob", pwd: "x"}},
		},
		{
			name:    "username and password, scheme and port",
			configs: []string{`{"auths":{"https://127.0.0.1:5000":{"username":"u","password":"p"}}}`},
			wants: []want{
				{repo: "127.0.0.1:5000/a", user: "u", pwd: "p"},
				{repo: "127.0.0.1:5001/a"},
			},
		},
		{
			name:    "auth field wins over username and password",
			configs: []string{`{"auths":{"r.io":{"auth":"` + b64("a:b") + `","username":"c","password":"d"}}}`},
			wants:   []want{{repo: "r.io/x", user: "a", pwd: "b"}},
		},
		{
			name:    "Docker Hub v1 key matches docker.io references",
			configs: []string{`{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("hub:tok") + `"}}}`},
			wants: []want{
				{repo: "docker.io/library/nginx", user: "hub", pwd: "tok"},
				{repo: "index.docker.io/org/app", user: "hub", pwd: "tok"},
				{repo: "nginx", user: "hub", pwd: "tok"},
			},
		},
		{
			name:    "docker.io alias key",
			configs: []string{`{"auths":{"docker.io":{"username":"h","password":"t"}}}`},
			wants:   []want{{repo: "registry-1.docker.io/org/app", user: "h", pwd: "t"}},
		},
		{
			name:    "case-insensitive host, uppercase scheme",
			configs: []string{`{"auths":{"HTTP://GHCR.IO/":{"username":"u","password":"p"}}}`},
			wants:   []want{{repo: "ghcr.io/org/app", user: "u", pwd: "p"}},
		},
		{
			name: "most specific path wins",
			configs: []string{`{"auths":{
				"ghcr.io":{"username":"all","password":"1"},
				"ghcr.io/team":{"username":"team","password":"2"},
				"ghcr.io/team/app":{"username":"app","password":"3"}}}`},
			wants: []want{
				{repo: "ghcr.io/other/app", user: "all", pwd: "1"},
				{repo: "ghcr.io/team/x", user: "team", pwd: "2"},
				{repo: "ghcr.io/teamx/x", user: "all", pwd: "1"},
				{repo: "ghcr.io/team/app", user: "app", pwd: "3"},
				{repo: "ghcr.io/team/app/sub", user: "app", pwd: "3"},
			},
		},
		{
			name: "earlier Secret wins, later Secrets fill gaps",
			configs: []string{
				`{"auths":{"a.io":{"username":"first","password":"1"}}}`,
				`{"auths":{"a.io":{"username":"second","password":"2"},"b.io":{"username":"b","password":"3"}}}`,
			},
			wants: []want{
				{repo: "a.io/x", user: "first", pwd: "1"},
				{repo: "b.io/x", user: "b", pwd: "3"},
			},
		},
		{
			name:    "identity token",
			configs: []string{`{"auths":{"acr.io":{"username":"00000000-0000-0000-0000-000000000000","identitytoken":"idtok"}}}`},
			wants:   []want{{repo: "acr.io/x", user: "00000000-0000-0000-0000-000000000000", token: "idtok"}},
		},
		{
			name:    "no auths, credential helpers ignored",
			configs: []string{`{"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"}}`},
			wants:   []want{{repo: "gcr.io/x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := make([][]byte, len(tt.configs))
			for i, c := range tt.configs {
				data[i] = []byte(c)
			}
			kc, err := KeychainFromDockerConfigs(data...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wants {
				repo, err := name.NewRepository(w.repo)
				if err != nil {
					t.Fatal(err)
				}
				auth, err := kc.Resolve(repo)
				if err != nil {
					t.Fatal(err)
				}
				if w.user == "" {
					if auth != authn.Anonymous {
						t.Errorf("%s: got credentials, want anonymous", w.repo)
					}
					continue
				}
				cfg, err := auth.Authorization()
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Username != w.user || cfg.Password != w.pwd || cfg.IdentityToken != w.token {
					t.Errorf("%s: got user %q password %q token %q; want %q %q %q",
						w.repo, cfg.Username, cfg.Password, cfg.IdentityToken, w.user, w.pwd, w.token)
				}
			}
		})
	}
}

func TestKeychainFromDockerConfigsErrors(t *testing.T) {
	t.Parallel()
	const secret = "Sup3rS3cret"
	tests := []struct {
		name, config, wantErr string
	}{
		{name: "not JSON", config: `{"auths": ` + secret, wantErr: "invalid JSON at byte offset"},
		{name: "wrong type", config: `{"auths":{"r.io":"` + secret + `"}}`, wantErr: `field "auths" has the wrong type`},
		{name: "auth not base64", config: `{"auths":{"r.io":{"auth":"` + secret + `!!"}}}`, wantErr: "not valid base64"},
		{name: "auth without colon", config: `{"auths":{"r.io":{"auth":"` + b64(secret) + `"}}}`, wantErr: `base64("username:password")`},
		{name: "auth with empty user", config: `{"auths":{"r.io":{"auth":"` + b64(":"+secret) + `"}}}`, wantErr: `base64("username:password")`},
		{name: "no credentials", config: `{"auths":{"r.io":{}}}`, wantErr: `registry "r.io": no auth`},
		{name: "empty key", config: `{"auths":{"":{"username":"u","password":"` + secret + `"}}}`, wantErr: "invalid registry"},
		{name: "empty data", config: ``, wantErr: "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := KeychainFromDockerConfigs([]byte(`{}`), []byte(tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "docker config 2 of 2") {
				t.Errorf("error %q does not say which config failed", err)
			}
			for _, leak := range []string{secret, b64(secret), b64(":" + secret)} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error leaks a credential: %v", err)
				}
			}
		})
	}
}

// FuzzKeychainFromDockerConfigs feeds arbitrary Secret data: it must never panic, and errors
// must never echo a password.
func FuzzKeychainFromDockerConfigs(f *testing.F) {
	f.Add(`{"auths":{"ghcr.io":{"auth":"YTpi"}}}`, "pw")
	f.Add(`{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"PASSWORD"}}}`, "PASSWORD")
	f.Add(`{"auths":{"r.io/a/b":{"identitytoken":"t"}}}`, "t")
	f.Add(`{"auths":{"":{}}}`, "")
	f.Fuzz(func(t *testing.T, config, password string) {
		doc := strings.ReplaceAll(config, "PASSWORD", password)
		kc, err := KeychainFromDockerConfigs([]byte(doc))
		if err != nil {
			if len(password) >= 6 && !strings.Contains(config, password) && strings.Contains(err.Error(), password) {
				t.Fatalf("error leaks the password %q: %v", password, err)
			}
			return
		}
		for _, r := range []string{"ghcr.io/x", "nginx", "127.0.0.1:5000/a/b", "r.io/a/b/c"} {
			repo, _ := name.NewRepository(r)
			if _, err := kc.Resolve(repo); err != nil {
				t.Fatal(err)
			}
		}
	})
}
