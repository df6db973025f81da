// Package requestlog records the requests a REST config's clients send to the API server, so
// tests can assert how many requests (and which) a reconcile costs.
//
//	reqs := &requestlog.Log{}
//	cfg.WrapTransport = reqs.Wrap
//	mark := reqs.Mark()
//	// ... reconcile ...
//	got := reqs.Since(mark, namespace)
package requestlog

import (
	"net/http"
	"strings"
	"sync"
)

// Request is one API request.
type Request struct {
	Method, Path, Query string
}

func (r Request) String() string { return r.Method + " " + r.Path + "?" + r.Query }

// Log is the requests sent through the transports Wrap returned, safe for concurrent use.
type Log struct {
	mu   sync.Mutex
	reqs []Request
}

// Wrap returns a transport that records every request it sends; it fits rest.Config's
// WrapTransport.
func (l *Log) Wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.reqs = append(l.reqs, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery})
		l.mu.Unlock()
		return next.RoundTrip(req)
	})
}

// Mark returns a position to read the requests sent after it.
func (l *Log) Mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// Since returns the requests sent after mark whose path is within namespace ns.
func (l *Log) Since(mark int, ns string) []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Request
	for _, r := range l.reqs[mark:] {
		if strings.Contains(r.Path, "/namespaces/"+ns+"/") {
			out = append(out, r)
		}
	}
	return out
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
