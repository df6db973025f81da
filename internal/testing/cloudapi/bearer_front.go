package cloudapi

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// BearerFront stands in front of a storage emulator that does not check OAuth 2.0 tokens
// (Azurite without OAuth, fake-gcs-server): it passes on only requests whose bearer token
// Accept takes, so a test proves which identity's token a client presented. Refused requests
// get 401 (no token) or 403 (a token not accepted), as the clouds' storage services answer.
type BearerFront struct {
	// URL is http://127.0.0.1:<port>.
	URL string
	// Accept decides whether a bearer token may pass.
	Accept func(token string) bool
	// Rewrite, when set, changes each accepted request before it goes to the emulator (the
	// Authorization header is already removed): authenticate to the emulator its own way.
	Rewrite func(*http.Request)
	// Accepted and Refused count requests.
	Accepted, Refused atomic.Int32
}

// StartBearerFront serves until the end of the test, passing accepted requests to upstream
// (an http:// URL).
func StartBearerFront(t testing.TB, upstream string, accept func(token string) bool) *BearerFront {
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	f := &BearerFront{Accept: accept}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok || token == "":
			f.Refused.Add(1)
			http.Error(w, "no bearer token", http.StatusUnauthorized)
			return
		case !f.Accept(token):
			f.Refused.Add(1)
			http.Error(w, "this identity may not read the bucket", http.StatusForbidden)
			return
		}
		f.Accepted.Add(1)
		r.Header.Del("Authorization")
		if f.Rewrite != nil {
			f.Rewrite(r)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}
