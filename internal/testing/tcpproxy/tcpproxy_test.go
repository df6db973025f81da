package tcpproxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gotk.dev/internal/testing/tcpproxy"
)

// TestCutAndRestore: requests pass through, a cut refuses them, a restore on the same address
// lets them through again, and connections are counted.
func TestCutAndRestore(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	p := tcpproxy.New(t, strings.TrimPrefix(srv.URL, "http://"))
	url := "http://" + p.Addr()
	get := func() error {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && string(b) != "ok" {
			t.Errorf("body %q through the proxy, want ok", b)
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	if err := get(); err == nil {
		t.Fatal("a request went through a cut proxy")
	}
	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("after restore: %v", err)
	}
	if n := p.Connections(); n != 2 {
		t.Errorf("connections = %d, want 2 (the refused one is not counted)", n)
	}
}
