package ui

import (
	"net/url"
	"strings"
	"testing"
)

func TestCommitURL(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct{ repo, rev, want string }{
		{"https://github.com/org/repo.git", "main@sha1:" + sha, "https://github.com/org/repo/commit/" + sha},
		{"ssh://git@github.com/org/repo", "sha1:" + sha, "https://github.com/org/repo/commit/" + sha},
		{"git@github.com:org/repo.git", "v1.0.0@sha1:" + sha, "https://github.com/org/repo/commit/" + sha},
		{"https://gitlab.com/group/sub/repo", "main@sha1:" + sha, "https://gitlab.com/group/sub/repo/-/commit/" + sha},
		{"https://bitbucket.org/team/repo.git", "main@sha1:" + sha, "https://bitbucket.org/team/repo/commits/" + sha},
		{"https://git.example.com/repo.git", "main@sha1:" + sha, ""}, // unknown host: no guess
		{"https://github.com/org/repo", "main", ""},                  // no commit in the revision
		{"https://github.com/org/repo", "main@sha1:abc", ""},
	} {
		if got := commitURL(c.repo, c.rev); got != c.want {
			t.Errorf("commitURL(%q, %q) = %q, want %q", c.repo, c.rev, got, c.want)
		}
	}
}

func TestPageWindowAndFilters(t *testing.T) {
	var rows []*Row
	for i, st := range []State{Stalled, Failed, Ready, Ready, Suspended} {
		r := &Row{Kind: "Kustomization", Namespace: "ns", Name: string(rune('a' + i)), State: st, Message: "msg " + string(st)}
		r.search = strings.ToLower("Kustomization ns " + r.Name + " " + r.Message)
		rows = append(rows, r)
	}
	all := func(*Row) bool { return true }
	p := page(rows, queryFrom(url.Values{"offset": {"1"}, "limit": {"2"}}), all)
	if p.Total != 5 || len(p.Items) != 2 || p.Items[0].Name != "b" || p.Items[1].Name != "c" {
		t.Errorf("window: total %d items %v", p.Total, p.Items)
	}
	p = page(rows, queryFrom(url.Values{"state": {"Ready"}}), all)
	if p.Total != 2 || p.States[Stalled] != 1 {
		t.Errorf("state filter: total %d, states %v (counts are before filters)", p.Total, p.States)
	}
	p = page(rows, queryFrom(url.Values{"q": {"MSG stalled"}}), all)
	if p.Total != 1 || p.Items[0].Name != "a" {
		t.Errorf("search: %+v", p.Items)
	}
	p = page(rows, queryFrom(url.Values{"limit": {"100000"}}), func(r *Row) bool { return r.Name != "a" })
	if p.Total != 4 || p.States[Stalled] != 0 {
		t.Errorf("visibility: total %d, states %v", p.Total, p.States)
	}
	if q := queryFrom(url.Values{"limit": {"100000"}, "offset": {"-3"}}); q.Limit != maxLimit || q.Offset != 0 {
		t.Errorf("limits: %+v", q)
	}
}
