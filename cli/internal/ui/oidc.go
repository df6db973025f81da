package ui

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCOptions configure sign-in with an OpenID Connect provider (cluster mode). The claim
// and prefix settings follow kube-apiserver's --oidc-* flags, so a user gets the same
// Kubernetes name through the UI as through kubectl with the same provider, and the same
// RoleBindings apply.
type OIDCOptions struct {
	IssuerURL    string
	ClientID     string
	ClientSecret string // empty for a public client (PKCE alone)
	// RedirectURL is the callback registered with the provider; empty means
	// <scheme>://<the request's Host>/auth/oidc/callback (http on loopback names, else https).
	RedirectURL string
	Scopes      []string
	// UsernameClaim is the claim naming the user ("sub" when empty). With "email", the
	// email_verified claim must not be false.
	UsernameClaim string
	// UsernamePrefix is put before the username; empty means "<issuer>#" for claims other
	// than email (kube-apiserver's default), "-" means none.
	UsernamePrefix string
	// GroupsClaim is the claim listing the groups (none when empty); GroupsPrefix is put
	// before each.
	GroupsClaim  string
	GroupsPrefix string
	// CAFile is a PEM bundle the provider's certificate is checked against (in addition to
	// the system's).
	CAFile string
}

// callbackPath is where the provider sends the browser back.
const callbackPath = "/auth/oidc/callback"

// flowCookie carries one sign-in's state, nonce and PKCE verifier between the redirect to the
// provider and the callback, encrypted like the session; it is scoped to /auth/oidc/.
const flowCookie = "flux-ui-oidc"

// flowData is what flowCookie carries.
type flowData struct {
	State, Nonce, Verifier, Next string
	Expires                      int64
}

// oidcLogin discovers the provider once (on the first sign-in, so the UI starts while the
// provider is down) and signs people in with the authorization-code flow and PKCE.
type oidcLogin struct {
	o    OIDCOptions
	http *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

func newOIDCLogin(o OIDCOptions) (*oidcLogin, error) {
	if o.IssuerURL == "" || o.ClientID == "" {
		return nil, errors.New("OIDC needs an issuer URL and a client ID")
	}
	if o.UsernameClaim == "" {
		o.UsernameClaim = "sub"
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
		if o.GroupsClaim == "groups" {
			o.Scopes = append(o.Scopes, "groups")
		}
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("OIDC CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("OIDC CA file %s: no PEM certificate in it", o.CAFile)
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return &oidcLogin{o: o, http: hc}, nil
}

func (l *oidcLogin) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, l.http)
}

// discover returns the provider, reading its discovery document the first time it succeeds.
func (l *oidcLogin) discover(ctx context.Context) (*oidc.Provider, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.provider != nil {
		return l.provider, nil
	}
	p, err := oidc.NewProvider(l.ctx(ctx), l.o.IssuerURL)
	if err != nil {
		return nil, err
	}
	l.provider = p
	return p, nil
}

func (l *oidcLogin) config(p *oidc.Provider, r *http.Request) *oauth2.Config {
	redirect := l.o.RedirectURL
	if redirect == "" {
		scheme := "https"
		if loopbackHost(r.Host) {
			scheme = "http"
		}
		redirect = scheme + "://" + r.Host + callbackPath
	}
	return &oauth2.Config{ClientID: l.o.ClientID, ClientSecret: l.o.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirect, Scopes: l.o.Scopes}
}

// viewer maps the ID token's claims to the Kubernetes user and groups, as kube-apiserver
// does with the same settings.
func (l *oidcLogin) viewer(claims map[string]any) (Viewer, error) {
	name, ok := claims[l.o.UsernameClaim].(string)
	if !ok || name == "" {
		return Viewer{}, fmt.Errorf("the ID token has no string claim %q", l.o.UsernameClaim)
	}
	if l.o.UsernameClaim == "email" {
		if verified, present := claims["email_verified"]; present && verified != true {
			return Viewer{}, fmt.Errorf("the email %q is not verified by the provider", name)
		}
	}
	switch prefix := l.o.UsernamePrefix; {
	case prefix == "-":
	case prefix != "":
		name = prefix + name
	case l.o.UsernameClaim != "email":
		name = l.o.IssuerURL + "#" + name
	}
	v := Viewer{User: name}
	if l.o.GroupsClaim == "" {
		return v, nil
	}
	switch g := claims[l.o.GroupsClaim].(type) {
	case nil:
	case string:
		v.Groups = []string{l.o.GroupsPrefix + g}
	case []any:
		for _, x := range g {
			s, ok := x.(string)
			if !ok {
				return Viewer{}, fmt.Errorf("the ID token's claim %q is not a list of strings", l.o.GroupsClaim)
			}
			v.Groups = append(v.Groups, l.o.GroupsPrefix+s)
		}
	default:
		return Viewer{}, fmt.Errorf("the ID token's claim %q is not a string or a list of strings", l.o.GroupsClaim)
	}
	return v, nil
}

// oidcStart sends the browser to the provider: a fresh state (ties the callback to this
// browser), nonce (ties the ID token to this sign-in) and PKCE verifier (the code is useless
// to whoever intercepts it), kept in the flow cookie.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		http.Error(w, "OIDC sign-in is not configured", http.StatusNotFound)
		return
	}
	p, err := s.oidc.discover(r.Context())
	if err != nil {
		s.log.Error("OIDC discovery failed", "issuer", s.oidc.o.IssuerURL, "error", err.Error())
		http.Error(w, "the OIDC provider "+s.oidc.o.IssuerURL+" cannot be reached; try again later", http.StatusBadGateway)
		return
	}
	f := flowData{State: RandomToken(), Nonce: RandomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(r.URL.Query().Get("next")), Expires: s.sessions.now().Add(10 * time.Minute).Unix()}
	val, err := s.sessions.codec.Encode(flowCookie, f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: val, Path: "/auth/oidc/", HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: 600})
	u := s.oidc.config(p, r).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	http.Redirect(w, r, u, http.StatusFound)
}

// oidcCallback finishes the sign-in: the state must be the flow cookie's, the code is
// exchanged with the PKCE verifier, the ID token is verified (signature, issuer, audience,
// expiry) and must carry the flow's nonce. Neither the code nor any token is logged or kept:
// the session holds only the user and groups.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		http.Error(w, "OIDC sign-in is not configured", http.StatusNotFound)
		return
	}
	// The flow cookie is single-use whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/auth/oidc/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.log.Info("OIDC provider refused the sign-in", "error", e)
		http.Error(w, "the OIDC provider refused the sign-in: "+e+" "+q.Get("error_description"), http.StatusUnauthorized)
		return
	}
	var f flowData
	c, err := r.Cookie(flowCookie)
	if err != nil || s.sessions.codec.Decode(flowCookie, c.Value, &f) != nil || s.sessions.now().Unix() > f.Expires {
		http.Error(w, "no sign-in in progress in this browser (or it took over 10 minutes): start again from the UI", http.StatusBadRequest)
		return
	}
	if !equal(q.Get("state"), f.State) {
		s.log.Info("OIDC callback with a wrong state refused")
		http.Error(w, "the sign-in's state does not match this browser's: start again from the UI", http.StatusBadRequest)
		return
	}
	p, err := s.oidc.discover(r.Context())
	if err != nil {
		http.Error(w, "the OIDC provider cannot be reached", http.StatusBadGateway)
		return
	}
	ctx := s.oidc.ctx(r.Context())
	tok, err := s.oidc.config(p, r).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		s.log.Info("OIDC code exchange failed", "error", exchangeError(err))
		http.Error(w, "the OIDC provider did not accept the sign-in: "+exchangeError(err), http.StatusUnauthorized)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		http.Error(w, "the OIDC provider returned no ID token (is the openid scope allowed?)", http.StatusUnauthorized)
		return
	}
	idt, err := p.VerifierContext(ctx, &oidc.Config{ClientID: s.oidc.o.ClientID, Now: s.sessions.now}).Verify(ctx, raw)
	if err != nil {
		s.log.Info("OIDC ID token refused", "error", err.Error())
		http.Error(w, "the ID token is not valid: "+err.Error(), http.StatusUnauthorized)
		return
	}
	if !equal(idt.Nonce, f.Nonce) {
		s.log.Info("OIDC ID token with a wrong nonce refused")
		http.Error(w, "the ID token was not issued for this sign-in (nonce mismatch): start again from the UI", http.StatusUnauthorized)
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	v, err := s.oidc.viewer(claims)
	if err != nil {
		s.log.Info("OIDC sign-in refused", "error", err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if err := s.setSession(w, r, v); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// exchangeError is the provider's error code for a failed exchange (its body is not logged).
func exchangeError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return re.ErrorCode + " " + re.ErrorDescription
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "the token request failed"
}

// localPath keeps a redirect target on this server: an absolute path, not "//host".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
