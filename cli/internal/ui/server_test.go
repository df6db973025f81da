package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/testenv"
)

var lazyEnv testenv.Lazy

func TestMain(m *testing.M) { testenv.MainLazy(m, &lazyEnv) }

// testServer runs a UI server against env in mode, served by httptest on 127.0.0.1.
type testServer struct {
	srv   *Server
	http  *httptest.Server
	token string
	c     *http.Client
}

func startServer(t *testing.T, env *testenv.Env, mode Mode) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	o := Options{Mode: mode, Config: env.Config}
	if mode == LocalMode {
		o.LocalToken = RandomToken()
	}
	srv, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Hub().WaitSynced(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	jar, _ := cookiejar.New(nil)
	ts := &testServer{srv: srv, http: hs, token: o.LocalToken, c: &http.Client{Jar: jar}}
	if mode == LocalMode {
		// The URL flux ui prints: the token moves into a cookie.
		res, err := ts.c.Get(hs.URL + "/?token=" + o.LocalToken)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	return ts
}

// do sends a request with the CSRF header a page sends; it returns the status and body.
func (ts *testServer) do(t *testing.T, method, path string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, ts.http.URL+path, r)
	req.Header.Set(csrfHeader, "1")
	res, err := ts.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (ts *testServer) getJSON(t *testing.T, path string, into any) {
	t.Helper()
	code, body := ts.do(t, http.MethodGet, path, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), into); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// eventually retries cond until it holds (the hub learns of writes through its watches).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flux creates a Flux object and writes its status as its controller would.
func flux(t testing.TB, env *testenv.Env, apiVersion, kind, ns, name string, spec map[string]any, status map[string]any) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}}
	ctx := context.Background()
	if err := env.Client.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if status != nil {
		status["observedGeneration"] = u.GetGeneration()
		u.Object["status"] = status
		if err := env.Client.Status().Update(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func condition(typ, status, reason, msg string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": msg, "lastTransitionTime": "2026-01-01T00:00:00Z"}
}

func ksSpec(extra map[string]any) map[string]any {
	s := map[string]any{"interval": "10m", "prune": true, "sourceRef": map[string]any{"kind": "GitRepository", "name": "fleet"}}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

// fleet creates a GitRepository, a ready Kustomization applying a ConfigMap (and one gone
// from the cluster), and a stalled one depending on it.
func fleet(t *testing.T, env *testenv.Env, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	flux(t, env, "source.toolkit.fluxcd.io/v1", "GitRepository", ns, "fleet",
		map[string]any{"interval": "10m", "url": "https://github.com/example/fleet.git", "ref": map[string]any{"branch": "main"}},
		map[string]any{"conditions": []any{condition("Ready", "True", "Succeeded", "stored artifact for revision 'main@sha1:0123456789abcdef0123456789abcdef01234567'")},
			"artifact": map[string]any{"revision": "main@sha1:0123456789abcdef0123456789abcdef01234567", "digest": "sha256:00", "url": "http://x", "path": "x", "lastUpdateTime": "2026-01-01T00:00:00Z"}})
	flux(t, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, "apps", ksSpec(map[string]any{"path": "./apps"}),
		map[string]any{"conditions": []any{condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567")},
			"lastAppliedRevision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
			"inventory": map[string]any{"entries": []any{
				map[string]any{"id": ns + "_settings__ConfigMap", "v": "v1"},
				map[string]any{"id": ns + "_gone__ConfigMap", "v": "v1"},
			}}})
	flux(t, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, "broken", ksSpec(map[string]any{"path": "./nope", "dependsOn": []any{map[string]any{"name": "apps"}}}),
		map[string]any{"conditions": []any{
			condition("Ready", "False", "ArtifactFailed", "kustomization path not found: stat /tmp/nope: no such file or directory"),
			condition("Stalled", "True", "ArtifactFailed", "kustomization path not found"),
		}})
}

func TestLocalOverviewDetailAndActions(t *testing.T) {
	env := lazyEnv.Get(t)
	ns := env.NewNamespace(t, "ui-local")
	fleet(t, env, ns)
	ts := startServer(t, env, LocalMode)
	var p Page
	eventually(t, "the fleet in the overview", func() bool {
		ts.getJSON(t, "/api/objects?namespace="+ns, &p)
		return p.Total == 3
	})
	if got := p.Items[0]; got.Name != "broken" || got.State != Stalled || !strings.Contains(got.Message, "kustomization path not found") {
		t.Errorf("first row %+v, want the stalled Kustomization first with its message", got)
	}
	// The counts cover everything visible before the filters: other tests' namespaces too.
	if p.States[Ready] < 2 || p.Counts["Kustomization"][Stalled] < 1 || p.Counts["GitRepository"][Ready] < 1 {
		t.Errorf("counts %v %v", p.States, p.Counts)
	}
	ts.getJSON(t, "/api/objects?namespace="+ns+"&q=nope+found", &p)
	if p.Total != 1 {
		t.Errorf("search: %d rows, want 1", p.Total)
	}

	var d Detail
	ts.getJSON(t, "/api/objects/Kustomization/"+ns+"/broken", &d)
	if d.Source == nil || d.Source.CommitURL != "https://github.com/example/fleet/commit/0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("source %+v", d.Source)
	}
	if len(d.Graph.Edges) != 1 || d.Graph.Edges[0] != [2]string{"Kustomization/" + ns + "/broken", "Kustomization/" + ns + "/apps"} {
		t.Errorf("graph %+v", d.Graph)
	}

	var tree Tree
	ts.getJSON(t, "/api/objects/Kustomization/"+ns+"/apps/tree", &tree)
	got := map[string]string{}
	for _, c := range tree.Root.Children {
		got[c.Kind+"/"+c.Name] = c.Health
	}
	if len(got) != 2 || got["ConfigMap/settings"] != "Current" || got["ConfigMap/gone"] != "NotFound" {
		t.Errorf("tree children %v", got)
	}

	t.Run("a POST without the page's header is refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, ts.http.URL+"/api/objects/Kustomization/"+ns+"/apps/reconcile", nil)
		res, err := ts.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", res.StatusCode)
		}
	})
	t.Run("reconcile sets requestedAt", func(t *testing.T) {
		code, body := ts.do(t, http.MethodPost, "/api/objects/Kustomization/"+ns+"/apps/reconcile", nil)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		var res ActionResult
		_ = json.Unmarshal([]byte(body), &res)
		u := get(t, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, "apps")
		if res.RequestedAt == "" || u.GetAnnotations()["reconcile.fluxcd.io/requestedAt"] != res.RequestedAt {
			t.Errorf("token %q, annotations %v", res.RequestedAt, u.GetAnnotations())
		}
	})
	t.Run("suspend, reconcile refused, resume", func(t *testing.T) {
		if code, body := ts.do(t, http.MethodPost, "/api/objects/Kustomization/"+ns+"/apps/suspend", nil); code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		if s, _, _ := unstructured.NestedBool(get(t, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, "apps").Object, "spec", "suspend"); !s {
			t.Error("spec.suspend not set")
		}
		eventually(t, "the hub to see the suspension", func() bool {
			_, r, _ := ts.srv.Hub().Get(objectKey{"Kustomization", ns, "apps"})
			return r.Suspended
		})
		if code, body := ts.do(t, http.MethodPost, "/api/objects/Kustomization/"+ns+"/apps/reconcile", nil); code != http.StatusConflict || !strings.Contains(body, "suspended") {
			t.Errorf("reconcile of a suspended object: %d %s", code, body)
		}
		if code, body := ts.do(t, http.MethodPost, "/api/objects/Kustomization/"+ns+"/apps/resume", nil); code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		if _, found, _ := unstructured.NestedFieldNoCopy(get(t, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, "apps").Object, "spec", "suspend"); found {
			t.Error("resume left spec.suspend")
		}
	})
	t.Run("the stream pushes changes", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, ts.http.URL+"/api/stream/objects?namespace="+ns+"&state=Failed", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := ts.c.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		lines := bufio.NewScanner(res.Body)
		lines.Buffer(nil, 1<<20)
		next := func() Page {
			for lines.Scan() {
				if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
					var p Page
					if err := json.Unmarshal([]byte(data), &p); err != nil {
						t.Fatal(err)
					}
					return p
				}
			}
			t.Fatalf("stream ended: %v", lines.Err())
			return Page{}
		}
		if p := next(); p.Total != 0 {
			t.Fatalf("first page: %d failed", p.Total)
		}
		u := get(t, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, "apps")
		_ = unstructured.SetNestedSlice(u.Object, []any{condition("Ready", "False", "BuildFailed", "kustomize build failed")}, "status", "conditions")
		if err := env.Client.Status().Update(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		if p := next(); p.Total != 1 || p.Items[0].Message != "kustomize build failed" {
			t.Errorf("pushed page %+v", p)
		}
	})
}

func get(t *testing.T, env *testenv.Env, apiVersion, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// viewerToken creates a ServiceAccount in ns allowed only to read (and, with edit, patch)
// Flux objects of ns, and returns a token for it.
func viewerToken(t *testing.T, c client.Client, cfg *rest.Config, ns, name string, edit bool) string {
	t.Helper()
	ctx := context.Background()
	verbs := []string{"get", "list", "watch"}
	if edit {
		verbs = append(verbs, "patch")
	}
	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io"}, Resources: []string{"*"}, Verbs: verbs},
			{APIGroups: []string{""}, Resources: []string{"events", "configmaps"}, Verbs: []string{"get", "list"}},
		}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}},
	} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

func TestClusterModeActsAsTheViewer(t *testing.T) {
	env := lazyEnv.Get(t)
	mine, other := env.NewNamespace(t, "ui-mine"), env.NewNamespace(t, "ui-other")
	fleet(t, env, mine)
	fleet(t, env, other)
	reader := viewerToken(t, env.Client, env.Config, mine, "reader", false)
	editor := viewerToken(t, env.Client, env.Config, mine, "editor", true)
	ts := startServer(t, env, ClusterMode)

	if code, _ := ts.do(t, http.MethodGet, "/api/objects", nil); code != http.StatusUnauthorized {
		t.Errorf("not signed in: %d", code)
	}
	if code, _ := ts.do(t, http.MethodPost, "/auth/token", map[string]string{"token": "not-a-token"}); code != http.StatusUnauthorized {
		t.Errorf("bad token: %d", code)
	}
	if code, body := ts.do(t, http.MethodPost, "/auth/token", map[string]string{"token": reader}); code != http.StatusOK || !strings.Contains(body, "system:serviceaccount:"+mine+":reader") {
		t.Fatalf("sign in: %d %s", code, body)
	}
	var p Page
	eventually(t, "the viewer's objects", func() bool {
		ts.getJSON(t, "/api/objects?limit=500", &p)
		return p.Total >= 3
	})
	for _, r := range p.Items {
		if r.Namespace != mine {
			t.Errorf("the viewer sees %s/%s/%s of a namespace it may not read", r.Kind, r.Namespace, r.Name)
		}
	}
	if code, _ := ts.do(t, http.MethodGet, "/api/objects/Kustomization/"+other+"/apps", nil); code != http.StatusNotFound {
		t.Errorf("another namespace's object: %d, want 404", code)
	}
	code, body := ts.do(t, http.MethodPost, "/api/objects/Kustomization/"+mine+"/apps/reconcile", nil)
	if code != http.StatusForbidden || !strings.Contains(body, "cannot patch") {
		t.Errorf("reconcile without patch rights: %d %s", code, body)
	}
	if a := get(t, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", mine, "apps").GetAnnotations(); a["reconcile.fluxcd.io/requestedAt"] != "" {
		t.Error("a refused reconcile annotated the object")
	}
	var tree Tree
	ts.getJSON(t, "/api/objects/Kustomization/"+mine+"/apps/tree", &tree)
	if len(tree.Root.Children) != 2 {
		t.Errorf("tree %+v", tree.Root)
	}

	if code, body := ts.do(t, http.MethodPost, "/auth/token", map[string]string{"token": editor}); code != http.StatusOK {
		t.Fatalf("sign in: %d %s", code, body)
	}
	if code, body := ts.do(t, http.MethodPost, "/api/objects/Kustomization/"+mine+"/apps/reconcile", nil); code != http.StatusOK {
		t.Errorf("reconcile with patch rights: %d %s", code, body)
	}
	if code, body := ts.do(t, http.MethodPost, "/api/objects/Kustomization/"+other+"/apps/reconcile", nil); code != http.StatusNotFound {
		t.Errorf("reconcile in another namespace: %d %s", code, body)
	}
}
