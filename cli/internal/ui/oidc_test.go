package ui

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/dex"
	"gotk.dev/internal/testing/testenv"
)

// Users of the test provider; Dex puts their groups in the groups claim.
var (
	alice = dex.User{Email: "alice@example.com", Password: "alice-password", Username: "alice", Groups: []string{"team-a"}}
	bob   = dex.User{Email: "bob@example.com", Password: "bob-password", Username: "bob", Groups: []string{"team-b"}}
)

const (
	oidcClientID     = "flux-ui"
	oidcClientSecret = "flux-ui-client-secret"
)

// oidcServer is a cluster-mode UI signing people in through a real Dex.
type oidcServer struct {
	*testServer
	dex *dex.Server
	log *syncBuffer
}

// startOIDCServer starts Dex with users and a UI whose users are "oidc:<email>" in groups
// "oidc:<group>". Tests sharing the API server give their users groups of their own.
func startOIDCServer(t *testing.T, env *testenv.Env, users ...dex.User) *oidcServer {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	callback := "http://" + hs.Listener.Addr().String() + callbackPath
	d := dex.Start(t, dex.Options{
		Clients: []dex.Client{{ID: oidcClientID, Secret: oidcClientSecret, RedirectURIs: []string{callback}}},
		Users:   users,
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logs := &syncBuffer{}
	srv, err := New(ctx, Options{Mode: ClusterMode, Config: env.Config, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OIDC: &OIDCOptions{IssuerURL: d.Issuer(), ClientID: oidcClientID, ClientSecret: oidcClientSecret,
			UsernameClaim: "email", UsernamePrefix: "oidc:", GroupsClaim: "groups", GroupsPrefix: "oidc:"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Hub().WaitSynced(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return &oidcServer{testServer: &testServer{srv: srv, http: hs, c: newBrowserlikeClient()}, dex: d, log: logs}
}

func newBrowserlikeClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// signIn runs the authorization-code flow as a browser would: the UI's login sends it to
// Dex, Dex's login form takes the user's password, Dex sends it back to the UI's callback
// with a code, and the UI redirects to next. It returns the last response's status, URL and
// body.
func (s *oidcServer) signIn(t *testing.T, c *http.Client, u dex.User, next string, rewriteAuthorize func(*url.URL)) (int, *url.URL, string) {
	t.Helper()
	if rewriteAuthorize != nil {
		c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), s.dex.Issuer()+"/auth?") {
				rewriteAuthorize(req.URL)
			}
			return nil
		}
		defer func() { c.CheckRedirect = nil }()
	}
	res, err := c.Get(s.http.URL + "/auth/oidc/login?next=" + url.QueryEscape(next))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	login := res.Request.URL
	if !strings.HasPrefix(login.String(), s.dex.Issuer()) || !strings.Contains(body, `name="password"`) {
		t.Fatalf("expected Dex's login form, got %d %s:\n%s\ndex:\n%s", res.StatusCode, login, body, s.dex.Output())
	}
	// Dex's form posts back to the page's own URL.
	res, err = c.PostForm(login.String(), url.Values{"login": {u.Email}, "password": {u.Password}})
	if err != nil {
		t.Fatal(err)
	}
	body = readAll(t, res)
	return res.StatusCode, res.Request.URL, body
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// groupMayEdit lets group read the Flux objects (and events, ConfigMaps) of ns and patch its
// Kustomizations (not its sources).
func groupMayEdit(t *testing.T, c client.Client, ns, group string) {
	t.Helper()
	ctx := context.Background()
	name := "oidc-" + strings.TrimPrefix(group, "oidc:")
	for _, o := range []client.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"kustomize.toolkit.fluxcd.io"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch", "patch"}},
			{APIGroups: []string{"source.toolkit.fluxcd.io"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"events", "configmaps"}, Verbs: []string{"get", "list"}},
		}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: group}}},
	} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOIDCSignIn signs in through a real OpenID Connect provider (Dex) with the
// authorization-code flow and PKCE: the user and groups of the ID token are impersonated, so a
// member of team-a sees and acts only where team-a's RoleBinding allows; a callback with
// another browser's state, an ID token for another sign-in (nonce), an expired, tampered or
// signed-out session are refused, and no code or token reaches the log.
func TestOIDCSignIn(t *testing.T) {
	env := lazyEnv.Get(t)
	nsA, nsB := env.NewNamespace(t, "ui-team-a"), env.NewNamespace(t, "ui-team-b")
	fleet(t, env, nsA)
	fleet(t, env, nsB)
	groupMayEdit(t, env.Client, nsA, "oidc:team-a")
	groupMayEdit(t, env.Client, nsB, "oidc:team-b")
	s := startOIDCServer(t, env, alice, bob)

	var whoami struct {
		OIDC     bool     `json:"oidc"`
		SignedIn bool     `json:"signedIn"`
		User     string   `json:"user"`
		Groups   []string `json:"groups"`
	}
	s.getJSON(t, "/api/whoami", &whoami)
	if !whoami.OIDC || whoami.SignedIn {
		t.Fatalf("before sign-in: %+v", whoami)
	}

	next := "/Kustomization/" + nsA + "/apps"
	code, landed, _ := s.signIn(t, s.c, alice, next, nil)
	if code != http.StatusOK || landed.String() != s.http.URL+next {
		t.Fatalf("sign-in ended at %d %s, want the page it started from %s\ndex:\n%s\nui:\n%s", code, landed, next, s.dex.Output(), s.log)
	}
	s.getJSON(t, "/api/whoami", &whoami)
	if whoami.User != "oidc:alice@example.com" || strings.Join(whoami.Groups, ",") != "oidc:team-a" {
		t.Fatalf("signed in as %q %v, want oidc:alice@example.com in oidc:team-a", whoami.User, whoami.Groups)
	}

	t.Run("team-a sees and acts only in team-a's namespace", func(t *testing.T) {
		var p Page
		eventually(t, "team-a's objects", func() bool {
			s.getJSON(t, "/api/objects?limit=500", &p)
			return p.Total >= 3
		})
		for _, r := range p.Items {
			if r.Namespace != nsA {
				t.Errorf("alice sees %s/%s/%s outside team-a's namespace", r.Kind, r.Namespace, r.Name)
			}
		}
		if code, body := s.do(t, http.MethodPost, "/api/objects/Kustomization/"+nsA+"/apps/reconcile", nil); code != http.StatusOK {
			t.Errorf("reconcile in team-a's namespace: %d %s", code, body)
		}
		if code, body := s.do(t, http.MethodPost, "/api/objects/GitRepository/"+nsA+"/fleet/reconcile", nil); code != http.StatusForbidden || !strings.Contains(body, "oidc:alice@example.com") || !strings.Contains(body, "cannot patch") {
			t.Errorf("reconcile of a source team-a may not patch: %d %s, want the API server's refusal naming alice", code, body)
		}
	})

	t.Run("team-b sees none of team-a's objects", func(t *testing.T) {
		bobs := &testServer{srv: s.srv, http: s.http, c: newBrowserlikeClient()}
		if code, landed, body := s.signIn(t, bobs.c, bob, "/", nil); code != http.StatusOK || landed.Path != "/" {
			t.Fatalf("bob's sign-in: %d %s %s", code, landed, body)
		}
		var p Page
		eventually(t, "team-b's objects", func() bool {
			bobs.getJSON(t, "/api/objects?limit=500", &p)
			return p.Total >= 3
		})
		for _, r := range p.Items {
			if r.Namespace != nsB {
				t.Errorf("bob sees %s/%s/%s outside team-b's namespace", r.Kind, r.Namespace, r.Name)
			}
		}
		if code, _ := bobs.do(t, http.MethodPost, "/api/objects/Kustomization/"+nsA+"/apps/reconcile", nil); code != http.StatusNotFound {
			t.Errorf("bob's reconcile in team-a's namespace: %d, want 404 (he may not see it)", code)
		}
	})

	t.Run("a callback with another state is refused", func(t *testing.T) {
		c := newBrowserlikeClient()
		code, landed, body := s.signIn(t, c, alice, "/", func(u *url.URL) {
			q := u.Query()
			q.Set("state", RandomToken())
			u.RawQuery = q.Encode()
		})
		if code != http.StatusBadRequest || landed.Path != callbackPath || !strings.Contains(body, "state does not match") {
			t.Errorf("wrong state: %d at %s: %s", code, landed, body)
		}
		if signedIn(t, s, c) {
			t.Error("a callback with a wrong state signed the browser in")
		}
	})

	t.Run("an ID token for another sign-in is refused (nonce)", func(t *testing.T) {
		// The authorize request keeps this browser's state but carries the nonce of a
		// sign-in started elsewhere: the provider puts that nonce in the ID token.
		other := newBrowserlikeClient()
		other.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := other.Get(s.http.URL + "/auth/oidc/login")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		authorize, err := url.Parse(res.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		foreignNonce := authorize.Query().Get("nonce")
		c := newBrowserlikeClient()
		code, landed, body := s.signIn(t, c, alice, "/", func(u *url.URL) {
			q := u.Query()
			q.Set("nonce", foreignNonce)
			u.RawQuery = q.Encode()
		})
		if code != http.StatusUnauthorized || landed.Path != callbackPath || !strings.Contains(body, "nonce") {
			t.Errorf("wrong nonce: %d at %s: %s", code, landed, body)
		}
		if signedIn(t, s, c) {
			t.Error("an ID token with another sign-in's nonce signed the browser in")
		}
	})

	t.Run("a tampered session cookie is refused", func(t *testing.T) {
		u, _ := url.Parse(s.http.URL)
		var val string
		for _, c := range s.c.Jar.Cookies(u) {
			if c.Name == sessionCookie {
				val = c.Value
			}
		}
		if val == "" {
			t.Fatal("no session cookie")
		}
		tampered := []byte(val)
		tampered[len(tampered)/2] ^= 1
		req, _ := http.NewRequest(http.MethodGet, s.http.URL+"/api/objects", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: string(tampered)})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("tampered cookie: %d", res.StatusCode)
		}
	})

	t.Run("an expired session is refused", func(t *testing.T) {
		s.srv.sessions.now = func() time.Time { return time.Now().Add(13 * time.Hour) }
		defer func() { s.srv.sessions.now = time.Now }()
		if code, _ := s.do(t, http.MethodGet, "/api/objects", nil); code != http.StatusUnauthorized {
			t.Errorf("a 13-hour-old session: %d, want 401", code)
		}
	})

	t.Run("sign-out ends the session, also for a copy of the cookie and an open stream", func(t *testing.T) {
		u, _ := url.Parse(s.http.URL)
		copied := s.c.Jar.Cookies(u)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.http.URL+"/api/stream/objects", nil)
		stream, err := s.c.Do(req)
		if err != nil || stream.StatusCode != http.StatusOK {
			t.Fatalf("stream: %v %v", err, stream)
		}
		defer stream.Body.Close()
		lines := bufio.NewScanner(stream.Body)
		lines.Buffer(nil, 1<<20)
		for lines.Scan() && !strings.HasPrefix(lines.Text(), "data: ") {
		}
		if code, _ := s.do(t, http.MethodPost, "/auth/logout", nil); code != http.StatusOK {
			t.Fatalf("logout: %d", code)
		}
		// A change in the cluster wakes the stream, which finds its session gone and ends.
		ks := get(t, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", nsA, "apps")
		ks.SetLabels(map[string]string{"touched": "yes"})
		if err := env.Client.Update(context.Background(), ks); err != nil {
			t.Fatal(err)
		}
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "data: ") {
				t.Fatalf("the stream pushed a page after sign-out: %.200s", lines.Text())
			}
		}
		if ctx.Err() != nil {
			t.Error("the stream stayed open after sign-out")
		}
		if signedIn(t, s, s.c) {
			t.Error("still signed in after logout")
		}
		req, _ = http.NewRequest(http.MethodGet, s.http.URL+"/api/objects", nil)
		for _, c := range copied {
			req.AddCookie(c)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("the cookie copied before logout still works: %d", res.StatusCode)
		}
	})

	t.Run("no code or token in the log", func(t *testing.T) {
		log := s.log.String()
		if !strings.Contains(log, "signed in") || !strings.Contains(log, "oidc:alice@example.com") {
			t.Fatalf("the log does not record the sign-in:\n%s", log)
		}
		for _, secret := range []string{"eyJ", oidcClientSecret, "code=", "id_token", "access_token", alice.Password} {
			if strings.Contains(log, secret) {
				t.Errorf("the log contains %q:\n%s", secret, log)
			}
		}
	})
}

func signedIn(t *testing.T, s *oidcServer, c *http.Client) bool {
	t.Helper()
	ts := &testServer{srv: s.srv, http: s.http, c: c}
	code, _ := ts.do(t, http.MethodGet, "/api/objects", nil)
	return code == http.StatusOK
}

// syncBuffer is a log destination read by the test while the server writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
