package requestlog

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSinceKeepsTheNamespacesRequestsAfterTheMark(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	var l Log
	c := &http.Client{Transport: l.Wrap(http.DefaultTransport)}
	get := func(path string) {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	get("/api/v1/namespaces/a/configmaps/before")
	mark := l.Mark()
	get("/api/v1/namespaces/a/configmaps/x?watch=true")
	get("/api/v1/namespaces/b/configmaps/y")
	got := l.Since(mark, "a")
	if len(got) != 1 || got[0].String() != "GET /api/v1/namespaces/a/configmaps/x?watch=true" {
		t.Fatalf("Since = %v", got)
	}
}

func TestTallyReportsPerRunAveragesIncludingEmptyCategories(t *testing.T) {
	tally := &Tally{Categories: []string{"applies", "other"}, Category: func(r Request) string {
		if r.Method == "PATCH" {
			return "applies"
		}
		return "other"
	}}
	tally.Add(0, []Request{{Method: "GET"}, {Method: "GET"}})
	tally.Add(0, []Request{{Method: "GET"}, {Method: "GET"}})
	res := testing.Benchmark(func(b *testing.B) { tally.Report(b, "noop") })
	if res.Extra["noop-requests"] != 2 || res.Extra["noop-other"] != 2 {
		t.Fatalf("metrics %v, want 2 requests and 2 other per run", res.Extra)
	}
	if v, ok := res.Extra["noop-applies"]; !ok || v != 0 {
		t.Fatalf("metrics %v, want noop-applies reported as 0", res.Extra)
	}
}
