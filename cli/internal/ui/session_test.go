package ui

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSessionCookie: the session cookie is HttpOnly and SameSite=Lax, Secure on every host but
// a loopback name (or always when configured), and carries no readable user name.
func TestSessionCookie(t *testing.T) {
	codec, err := newSessionCodec([]byte("secret"), time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host         string
		forceSecure  bool
		secureWanted bool
	}{
		{"ui.example.com", false, true},
		{"127.0.0.1:9292", false, false},
		{"localhost:9292", false, false},
		{"[::1]:9292", false, false},
		{"127.0.0.1:9292", true, true},
	} {
		s := &Server{opts: Options{SecureCookies: tc.forceSecure}, log: slog.New(slog.DiscardHandler), sessions: codec}
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "http://"+tc.host+"/", nil)
		if err := s.setSession(w, r, Viewer{User: "oidc:ann@example.com", Groups: []string{"dev"}}); err != nil {
			t.Fatal(err)
		}
		cookies := w.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("%s: cookies %v", tc.host, cookies)
		}
		c := cookies[0]
		if c.Secure != tc.secureWanted || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s: Secure=%v HttpOnly=%v SameSite=%v, want Secure=%v HttpOnly SameSite=Lax", tc.host, c.Secure, c.HttpOnly, c.SameSite, tc.secureWanted)
		}
		if raw, _ := base64.URLEncoding.DecodeString(c.Value); len(raw) == 0 || strings.Contains(string(raw), "ann@example.com") || strings.Contains(c.Value, "ann@example.com") {
			t.Errorf("%s: the cookie is not an encrypted value: %q", tc.host, raw)
		}
		if d, ok := codec.decode(c.Value); !ok || d.Viewer.User != "oidc:ann@example.com" {
			t.Errorf("%s: the cookie does not decode to the session: %+v", tc.host, d)
		}
	}
	// Another server's key (another secret) cannot read or forge it.
	other, _ := newSessionCodec([]byte("other"), time.Hour, time.Now)
	val, _, _ := codec.encode(Viewer{User: "ann"})
	if _, ok := other.decode(val); ok {
		t.Error("a cookie of another key was accepted")
	}
}
