package ui

import (
	"net/url"
	"strconv"
	"strings"
)

// Query selects the rows of an overview page: filters, search and the page window.
type Query struct {
	Kind      string
	Namespace string
	State     State
	// Search matches kind, namespace, name, message and revision (case-insensitive, every
	// word must match).
	Search string
	Offset int
	Limit  int
}

// Page limits.
const (
	defaultLimit = 100
	maxLimit     = 500
)

// queryFrom reads a query from URL parameters (kind, namespace, state, q, offset, limit).
func queryFrom(v url.Values) Query {
	q := Query{Kind: v.Get("kind"), Namespace: v.Get("namespace"), State: State(v.Get("state")), Search: v.Get("q")}
	q.Offset, _ = strconv.Atoi(v.Get("offset"))
	q.Limit, _ = strconv.Atoi(v.Get("limit"))
	if q.Offset < 0 {
		q.Offset = 0
	}
	if q.Limit <= 0 {
		q.Limit = defaultLimit
	}
	q.Limit = min(q.Limit, maxLimit)
	return q
}

// Page is one overview page: the rows in the window, how many match, and the counts per kind
// and state of everything the viewer may see (before the filters, so the counts say where
// to look).
type Page struct {
	Total  int                      `json:"total"`
	Offset int                      `json:"offset"`
	Items  []*Row                   `json:"items"`
	Counts map[string]map[State]int `json:"counts"`
	States map[State]int            `json:"states"`
	Synced bool                     `json:"synced"`
	Kinds  []string                 `json:"kinds"`
}

// page computes the page of q over rows the viewer may see (visible).
func page(rows []*Row, q Query, visible func(*Row) bool) Page {
	p := Page{Offset: q.Offset, Items: []*Row{}, Counts: map[string]map[State]int{}, States: map[State]int{}}
	words := strings.Fields(strings.ToLower(q.Search))
	for _, r := range rows {
		if !visible(r) {
			continue
		}
		if p.Counts[r.Kind] == nil {
			p.Counts[r.Kind] = map[State]int{}
		}
		p.Counts[r.Kind][r.State]++
		p.States[r.State]++
		if !q.matches(r, words) {
			continue
		}
		if p.Total >= q.Offset && len(p.Items) < q.Limit {
			p.Items = append(p.Items, r)
		}
		p.Total++
	}
	return p
}

func (q Query) matches(r *Row, words []string) bool {
	if q.Kind != "" && !strings.EqualFold(q.Kind, r.Kind) {
		return false
	}
	if q.Namespace != "" && q.Namespace != r.Namespace {
		return false
	}
	if q.State != "" && q.State != r.State {
		return false
	}
	for _, w := range words {
		if !strings.Contains(r.search, w) {
			return false
		}
	}
	return true
}
