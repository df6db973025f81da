package githubapi

import (
	"net/http"
	"testing"
)

func TestCommitStatuses(t *testing.T) {
	f := newFixture(t)
	if err := f.api.CreateRepository(DefaultLogin, "app", true); err != nil {
		t.Fatal(err)
	}
	sha := f.git.Commit(DefaultLogin+"/app").Branch("main").File("a", "1").MustDo(t)
	auth := "Bearer " + token
	path := "repos/" + DefaultLogin + "/app/statuses/" + sha

	if code, _ := f.call(t, http.MethodPost, path, "", map[string]string{"state": "success"}); code != http.StatusUnauthorized {
		t.Errorf("anonymous status: %d, want 401", code)
	}
	if code, _ := f.call(t, http.MethodPost, path, auth, map[string]string{"state": "done"}); code != http.StatusUnprocessableEntity {
		t.Errorf("unknown state: %d, want 422", code)
	}
	missing := "repos/" + DefaultLogin + "/app/statuses/0123456789012345678901234567890123456789"
	if code, body := f.call(t, http.MethodPost, missing, auth, map[string]string{"state": "success"}); code != http.StatusUnprocessableEntity {
		t.Errorf("unknown commit: %d %v, want 422", code, body)
	}
	if code, _ := f.call(t, http.MethodPost, "repos/"+DefaultLogin+"/nope/statuses/"+sha, auth, map[string]string{"state": "success"}); code != http.StatusNotFound {
		t.Errorf("unknown repository: %d, want 404", code)
	}

	for _, st := range []string{"pending", "success"} {
		code, body := f.call(t, http.MethodPost, path, auth, map[string]string{"state": st, "context": "kustomization/app", "description": "d"})
		if code != http.StatusCreated || body["state"] != st || body["context"] != "kustomization/app" {
			t.Fatalf("create %s: %d %v", st, code, body)
		}
	}
	got := f.api.Statuses(DefaultLogin, "app", sha)
	if len(got) != 2 || got[0].State != "success" || got[1].State != "pending" {
		t.Fatalf("Statuses = %+v, want success then pending", got)
	}

	// The list is served by ref as well as hash, newest first; a private repository's
	// statuses are not served anonymously.
	req, _ := http.NewRequest(http.MethodGet, f.api.APIURL()+"repos/"+DefaultLogin+"/app/commits/main/statuses", nil)
	req.Header.Set("Authorization", auth)
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("list by ref: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, f.api.APIURL()+"repos/"+DefaultLogin+"/app/commits/"+sha+"/statuses", nil)
	resp, err = f.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("anonymous list of a private repository: %d, want 404", resp.StatusCode)
	}
}
