package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Cookie names.
const (
	localCookie   = "flux-ui-token"
	sessionCookie = "flux-ui-session"
	// csrfHeader must be on every POST: a page from another origin cannot add it without a
	// CORS preflight the server never grants.
	csrfHeader = "X-Flux-UI"
)

type viewerKey struct{}

// viewerOf is the viewer authed put in the request's context.
func viewerOf(r *http.Request) Viewer {
	v, _ := r.Context().Value(viewerKey{}).(Viewer)
	return v
}

// guard protects every request: in local mode the Host must be a loopback name (no DNS
// rebinding) and the one-time token arrives in the URL once and then lives in a cookie;
// every POST must carry the CSRF header and, when the browser sends one, an Origin of this
// server.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		if s.opts.Mode == LocalMode && !loopbackHost(r.Host) {
			http.Error(w, "flux ui answers only on localhost", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			if r.Header.Get(csrfHeader) == "" || !sameOrigin(r) {
				writeError(w, http.StatusForbidden, "cross-site request refused")
				return
			}
		}
		if s.opts.Mode == LocalMode && r.Method == http.MethodGet {
			if t := r.URL.Query().Get("token"); t != "" {
				if !equal(t, s.opts.LocalToken) {
					http.Error(w, "wrong token: use the URL flux ui printed", http.StatusUnauthorized)
					return
				}
				http.SetCookie(w, &http.Cookie{Name: localCookie, Value: t, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
				u := *r.URL
				q := u.Query()
				q.Del("token")
				u.RawQuery = q.Encode()
				http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authed runs h for a signed-in viewer, else answers 401.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.viewer(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "sign in first")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	}
}

// viewer is who the request comes from.
func (s *Server) viewer(r *http.Request) (Viewer, bool) {
	switch s.opts.Mode {
	case LocalMode:
		c, err := r.Cookie(localCookie)
		return Viewer{}, err == nil && equal(c.Value, s.opts.LocalToken)
	default:
		d, ok := s.session(r)
		return d.Viewer, ok
	}
}

// whoami tells the front end who is signed in and how to sign in.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	v, ok := s.viewer(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"mode": s.opts.Mode, "signedIn": ok, "user": v.User, "groups": v.Groups, "oidc": s.oidc != nil,
	})
}

// signInWithToken accepts a Kubernetes bearer token (a service account token, or any token
// the API server authenticates), asks the API server who it is (TokenReview), and starts a
// session as that user and groups. The token itself is not kept.
func (s *Server) signInWithToken(w http.ResponseWriter, r *http.Request) {
	if s.opts.Mode != ClusterMode {
		writeError(w, http.StatusNotFound, "sign-in is only needed in cluster mode")
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil || strings.TrimSpace(body.Token) == "" {
		writeError(w, http.StatusBadRequest, "a token is required")
		return
	}
	cs, err := kubernetes.NewForConfig(s.opts.Config)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	tr, err := cs.AuthenticationV1().TokenReviews().Create(r.Context(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: strings.TrimSpace(body.Token)},
	}, metav1.CreateOptions{})
	if err != nil {
		s.log.Error("token review failed", "error", err.Error())
		writeError(w, http.StatusBadGateway, "the API server could not review the token")
		return
	}
	if !tr.Status.Authenticated {
		writeError(w, http.StatusUnauthorized, "the API server did not accept the token")
		return
	}
	s.startSession(w, r, Viewer{User: tr.Status.User.Username, Groups: tr.Status.User.Groups})
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, v Viewer) {
	if err := s.setSession(w, r, v); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": v.User, "groups": v.Groups})
}

// signOut ends the session: the cookie is cleared and its id refused from now on.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.session(r); ok {
		s.sessions.revoke(d)
		s.log.Info("signed out", "user", d.Viewer.User)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, map[string]string{})
}

// RandomToken is 32 random bytes, URL-safe.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// loopbackHost reports whether a Host header names this machine by a loopback name.
func loopbackHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// sameOrigin accepts requests without an Origin header (not from a browser page) and those
// whose Origin is this server.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
	return o == r.Host
}
