package oci

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// forwardProxy is a minimal plain-HTTP forward proxy (absolute-form requests), counting what
// passes through it.
func forwardProxy(t *testing.T, seen *atomic.Int64) *url.URL {
	t.Helper()
	tr := &http.Transport{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		seen.Add(1)
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
		out.Header = r.Header.Clone()
		out.ContentLength = r.ContentLength
		resp, err := tr.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(tr.CloseIdleConnections)
	u, _ := url.Parse(srv.URL)
	return u
}

func TestClientProxy(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	ctx := testContext(t)
	var seen atomic.Int64
	proxy := forwardProxy(t, &seen)
	c := newClient(t, ClientOptions{Proxy: proxy})
	d, err := c.Push(ctx, reg.URL("proxied")+":v1", writeTree(t, map[string]string{"f": "x"}), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.ResolveRef(ctx, reg.URL("proxied"), Ref{Tag: "v1"}); err != nil || res.Digest != d {
		t.Fatalf("ResolveRef through the proxy = %+v, %v", res, err)
	}
	if seen.Load() == 0 {
		t.Fatal("no request went through the proxy")
	}

	// A proxy that is down makes requests fail instead of silently going direct.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := &url.URL{Scheme: "http", Host: l.Addr().String(), User: url.UserPassword("proxyuser", "proxy-Secret-42")}
	l.Close()
	c = newClient(t, ClientOptions{Proxy: dead})
	_, err = c.ResolveRef(ctx, reg.URL("proxied"), Ref{Tag: "v1"})
	if err == nil || !strings.Contains(err.Error(), "proxy") {
		t.Fatalf("err = %v, want a proxy connection error", err)
	}
	if strings.Contains(err.Error(), "proxy-Secret-42") {
		t.Fatalf("error leaks the proxy password: %v", err)
	}
}
