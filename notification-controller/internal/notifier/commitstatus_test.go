package notifier

import (
	"net/http"
	"strings"
	"testing"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/notification-controller/api/v1beta3"
)

func TestParseRevision(t *testing.T) {
	sha256 := strings.Repeat("ab", 32)
	tests := []struct {
		rev, want string
		wantErr   bool
	}{
		{rev: "main@sha1:" + testSHA, want: testSHA},
		{rev: "refs/heads/feature/x@sha1:" + testSHA, want: testSHA},
		{rev: "v1.2.3@sha256:" + sha256, want: sha256},
		{rev: "sha1:" + testSHA, want: testSHA},
		{rev: "main/" + testSHA, want: testSHA},
		{rev: "feature/deep/" + testSHA, want: testSHA},
		{rev: testSHA, want: testSHA},
		{rev: "main@md5:" + testSHA, wantErr: true},
		{rev: "main/abc", wantErr: true},
		{rev: "6.3.5@sha256:" + testSHA, wantErr: false, want: testSHA},
		{rev: "", wantErr: true},
		{rev: "main@sha1:" + strings.ToUpper(testSHA), wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRevision(tt.rev)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRevision(%q) = %q, %v; want %q, error %v", tt.rev, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCommitRevisionPrecedence(t *testing.T) {
	ev := testEvent(eventv1.EventSeverityInfo)
	other := strings.Repeat("1", 40)
	ev.Metadata["originRevision"] = "main@sha1:" + other
	if sha, err := commitOf(&ev); err != nil || sha != other {
		t.Errorf("originRevision should win over revision: %q %v", sha, err)
	}
	ev.Metadata["commit"] = strings.Repeat("2", 40)
	if sha, _ := commitOf(&ev); sha != strings.Repeat("2", 40) {
		t.Errorf("commit should win: %q", sha)
	}
	delete(ev.Metadata, "commit")
	delete(ev.Metadata, "originRevision")
	delete(ev.Metadata, "revision")
	if _, err := commitOf(&ev); err == nil || IsRetryable(err) {
		t.Errorf("an event without revision must fail permanently, got %v", err)
	}
}

func TestStatusDescription(t *testing.T) {
	for reason, want := range map[string]string{
		"ReconciliationSucceeded": "Reconciliation succeeded",
		"HealthCheckFailed":       "Health check failed",
		"Progressing":             "Progressing",
	} {
		ev := eventv1.Event{Reason: reason}
		if got := statusDescription(&ev); got != want {
			t.Errorf("statusDescription(%q) = %q, want %q", reason, got, want)
		}
	}
}

func TestStatusID(t *testing.T) {
	ev := testEvent(eventv1.EventSeverityInfo)
	ev.Metadata["clusterName"] = "prod-eu"
	provider := &v1beta3.Provider{ObjectMeta: metav1.ObjectMeta{Name: "gh", Namespace: "flux-system"}}
	alert := &v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "status", Namespace: "flux-system"}}
	tests := []struct {
		expr, want string
		wantErr    bool
	}{
		{expr: "", want: "kustomization/webapp/e3173055"},
		{expr: "(event.involvedObject.kind + '/' + event.involvedObject.name + '/' + event.metadata.clusterName)", want: "Kustomization/webapp/prod-eu"},
		{expr: "provider.metadata.name + '/' + alert.metadata.name", want: "gh/status"},
		{expr: "event.metadata.missing", wantErr: true},
		{expr: "''", wantErr: true},
	}
	for _, tt := range tests {
		f, err := newStatusIDFunc(&Options{ProviderUID: "e3173055-1111-2222-3333-444455556666", CommitStatusExpr: tt.expr, Provider: provider, Alert: alert})
		if err != nil {
			t.Fatalf("%q: %v", tt.expr, err)
		}
		got, err := f(&ev)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%q = %q, %v; want %q (error %v)", tt.expr, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestGitCommitStatusProviders(t *testing.T) {
	const uid = "e3173055-aaaa-bbbb-cccc-ddddeeeeffff"
	const id = "kustomization/webapp/e3173055"
	tests := []struct {
		name     string
		opts     func(addr string) Options
		wantPath string
		check    func(t *testing.T, c captured)
	}{
		{
			name: "github",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GitHubProvider, Address: a + "/org/repo.git", Token: "ghp"}
			},
			wantPath: "/api/v3/repos/org/repo/statuses/" + testSHA,
			check: func(t *testing.T, c captured) {
				expect(t, "Authorization", c.header.Get("Authorization"), "Bearer ghp")
				b := jsonBody(t, c)
				expect(t, "state", b["state"], "failure")
				expect(t, "context", b["context"], id)
				expect(t, "description", b["description"], "Reconciliation failed")
			},
		},
		{
			name: "gitlab",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GitLabProvider, Address: a + "/group/sub/project", Token: "glpat"}
			},
			wantPath: "/api/v4/projects/group/sub/project/statuses/" + testSHA,
			check: func(t *testing.T, c captured) {
				expect(t, "PRIVATE-TOKEN", c.header.Get("Private-Token"), "glpat")
				b := jsonBody(t, c)
				expect(t, "state", b["state"], "failed")
				expect(t, "name", b["name"], id)
			},
		},
		{
			name: "gitea",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GiteaProvider, Address: a + "/org/repo", Token: "gt"}
			},
			wantPath: "/api/v1/repos/org/repo/statuses/" + testSHA,
			check: func(t *testing.T, c captured) {
				expect(t, "Authorization", c.header.Get("Authorization"), "token gt")
				b := jsonBody(t, c)
				expect(t, "state", b["state"], "failure")
				expect(t, "context", b["context"], id)
			},
		},
		{
			name: "bitbucket",
			opts: func(a string) Options {
				return Options{Type: v1beta3.BitbucketProvider, Address: a + "/ws/repo", Token: "user:app-pass"}
			},
			wantPath: "/2.0/repositories/ws/repo/commit/" + testSHA + "/statuses/build",
			check: func(t *testing.T, c captured) {
				if !c.basic || c.user != "user" || c.pass != "app-pass" {
					t.Errorf("basic auth = %v %q %q", c.basic, c.user, c.pass)
				}
				b := jsonBody(t, c)
				expect(t, "state", b["state"], "FAILED")
				expect(t, "key", b["key"], id)
				expect(t, "name", b["name"], id)
			},
		},
		{
			name: "bitbucketserver token",
			opts: func(a string) Options {
				return Options{Type: v1beta3.BitbucketServerProvider, Address: a + "/scm/PROJ/repo.git", Token: "bbs"}
			},
			wantPath: "/rest/api/latest/projects/PROJ/repos/repo/commits/" + testSHA + "/builds",
			check: func(t *testing.T, c captured) {
				expect(t, "Authorization", c.header.Get("Authorization"), "Bearer bbs")
				b := jsonBody(t, c)
				expect(t, "state", b["state"], "FAILED")
				expect(t, "key", b["key"], id)
			},
		},
		{
			name: "bitbucketserver basic with context path",
			opts: func(a string) Options {
				return Options{Type: v1beta3.BitbucketServerProvider, Address: a + "/bitbucket/scm/PROJ/repo.git", Username: "u", Password: "p"}
			},
			wantPath: "/bitbucket/rest/api/latest/projects/PROJ/repos/repo/commits/" + testSHA + "/builds",
			check: func(t *testing.T, c captured) {
				if !c.basic || c.user != "u" || c.pass != "p" {
					t.Errorf("basic auth = %v %q %q", c.basic, c.user, c.pass)
				}
			},
		},
		{
			name: "azuredevops",
			opts: func(a string) Options {
				return Options{Type: v1beta3.AzureDevOpsProvider, Address: a + "/org/project/_git/repo", Token: "pat"}
			},
			wantPath: "/org/project/_apis/git/repositories/repo/commits/" + testSHA + "/statuses",
			check: func(t *testing.T, c captured) {
				expect(t, "query", c.query, "api-version=6.0")
				if !c.basic || c.pass != "pat" {
					t.Errorf("basic auth = %v %q", c.basic, c.pass)
				}
				b := jsonBody(t, c)
				expect(t, "state", b["state"], "failed")
				expect(t, "context.name", dig(t, b, "context", "name"), id)
				expect(t, "context.genre", dig(t, b, "context", "genre"), "fluxcd")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeAPI(t, func(r *http.Request) (int, string) {
				if r.Method == http.MethodGet {
					return http.StatusOK, "[]" // no status yet
				}
				return http.StatusCreated, "{}"
			})
			o := tt.opts(srv.URL)
			o.ProviderUID = uid
			post(t, mustNew(t, o), testEvent(eventv1.EventSeverityError))
			var posts []captured
			for _, c := range srv.all() {
				if c.method == http.MethodPost {
					posts = append(posts, c)
				}
			}
			if len(posts) != 1 {
				t.Fatalf("got %d POSTs, want 1", len(posts))
			}
			expect(t, "path", posts[0].path, tt.wantPath)
			tt.check(t, posts[0])
		})
	}
}

// TestGitHubSkipsDuplicateStatus: the same state and description for the same context is not
// posted twice (GitHub keeps every status; repeats clutter the commit).
func TestGitHubSkipsDuplicateStatus(t *testing.T) {
	const existing = `[{"state":"failure","context":"kustomization/webapp/e3173055","description":"Reconciliation failed"}]`
	srv := newFakeAPI(t, func(r *http.Request) (int, string) {
		if r.Method == http.MethodGet {
			return http.StatusOK, existing
		}
		return http.StatusCreated, "{}"
	})
	n := mustNew(t, Options{Type: v1beta3.GitHubProvider, Address: srv.URL + "/org/repo", Token: "t", ProviderUID: "e3173055-x"})
	post(t, n, testEvent(eventv1.EventSeverityError))
	for _, c := range srv.all() {
		if c.method == http.MethodPost {
			t.Fatal("a duplicate status was posted")
		}
	}
	post(t, n, testEvent(eventv1.EventSeverityInfo)) // different state: posted
	if reqs := srv.all(); reqs[len(reqs)-1].method != http.MethodPost {
		t.Fatal("a changed status was not posted")
	}
}

func TestGitHubAPIBase(t *testing.T) {
	r, err := parseRepoAddress("git@github.com:org/repo.git")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "github.com API", githubAPI(r), "https://api.github.com")
	r, _ = parseRepoAddress("ssh://git@ghe.example.com:2222/org/repo")
	expect(t, "GHE API", githubAPI(r), "https://ghe.example.com/api/v3")
}
