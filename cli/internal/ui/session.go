package ui

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
)

// A session lives in the browser, in a cookie signed (HMAC-SHA256) and encrypted (AES-256)
// with keys only the server has: it names the viewer to impersonate, so it must be neither
// readable nor forgeable. The server keeps only the ids of sessions signed out before they
// expired, so a copied cookie stops working at sign-out.
type sessionCodec struct {
	codec *securecookie.SecureCookie
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	revoked map[string]time.Time // session id → when its cookie would have expired
}

// sessionData is what the session cookie carries.
type sessionData struct {
	ID      string
	Viewer  Viewer
	Expires int64 // unix seconds
}

// newSessionCodec derives the cookie keys from secret (random when empty: a restart then
// signs everyone out, and replicas do not share sessions).
func newSessionCodec(secret []byte, ttl time.Duration, now func() time.Time) (*sessionCodec, error) {
	if len(secret) == 0 {
		secret = securecookie.GenerateRandomKey(32)
	}
	hashKey, err := hkdf.Key(sha256.New, secret, nil, "flux-ui session signing", 32)
	if err != nil {
		return nil, err
	}
	blockKey, err := hkdf.Key(sha256.New, secret, nil, "flux-ui session encryption", 32)
	if err != nil {
		return nil, err
	}
	c := securecookie.New(hashKey, blockKey)
	// The payload's own Expires decides (with the server's clock, which tests move); this
	// bound only keeps securecookie's timestamp check from ending a session earlier.
	c.MaxAge(int((ttl + time.Hour).Seconds()))
	return &sessionCodec{codec: c, ttl: ttl, now: now, revoked: map[string]time.Time{}}, nil
}

// errSessionTooLarge is a viewer whose groups do not fit in a cookie (browsers keep 4 KB).
var errSessionTooLarge = errors.New("the session does not fit in a cookie (too many groups)")

// encode returns a new session's cookie value and expiry.
func (c *sessionCodec) encode(v Viewer) (string, time.Time, error) {
	exp := c.now().Add(c.ttl)
	val, err := c.codec.Encode(sessionCookie, sessionData{ID: RandomToken(), Viewer: v, Expires: exp.Unix()})
	if err != nil {
		var e securecookie.Error
		if errors.As(err, &e) && e.IsUsage() {
			return "", time.Time{}, errSessionTooLarge
		}
		return "", time.Time{}, err
	}
	return val, exp, nil
}

// decode returns the session of a cookie value that this server signed, that has not
// expired and was not signed out.
func (c *sessionCodec) decode(val string) (sessionData, bool) {
	var d sessionData
	if err := c.codec.Decode(sessionCookie, val, &d); err != nil {
		return sessionData{}, false
	}
	if !c.now().Before(time.Unix(d.Expires, 0)) {
		return sessionData{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, gone := c.revoked[d.ID]; gone {
		return sessionData{}, false
	}
	return d, true
}

// revoke ends a session before its expiry.
func (c *sessionCodec) revoke(d sessionData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for id, exp := range c.revoked {
		if now.After(exp) {
			delete(c.revoked, id)
		}
	}
	c.revoked[d.ID] = time.Unix(d.Expires, 0)
}

// secureCookies reports whether cookies set for r must be Secure: always when configured,
// else unless the browser reached the server on a loopback name (plain HTTP through
// `kubectl port-forward`); a cookie for any other host only travels over HTTPS.
func (s *Server) secureCookies(r *http.Request) bool {
	return s.opts.SecureCookies || !loopbackHost(r.Host)
}

// setSession starts a session for v: the cookie is HttpOnly (no script reads it) and
// SameSite=Lax (sent on the top-level navigation back from an OIDC provider, not on
// cross-site subrequests; POSTs are also guarded by the CSRF header).
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, v Viewer) error {
	val, exp, err := s.sessions.encode(v)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: val, Path: "/", HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, Expires: exp})
	s.log.Info("signed in", "user", v.User, "groups", len(v.Groups))
	return nil
}

// session is the request's valid session, if any.
func (s *Server) session(r *http.Request) (sessionData, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return sessionData{}, false
	}
	return s.sessions.decode(c.Value)
}
