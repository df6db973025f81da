package githubapi

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// App is a GitHub App registered on the server: requests signed with its private key (an
// RS256 JWT whose issuer is the app ID, at most ten minutes long, as GitHub requires) may
// list its installations and create installation access tokens. An installation token works
// like GitHub's: as the password of Git over HTTPS (user "x-access-token") for the
// installation account's repositories, read and write, until it expires.
type App struct {
	ID        int64
	PublicKey *rsa.PublicKey
	// Installations are the accounts the app is installed on.
	Installations []Installation
}

// Installation is one installation of an app.
type Installation struct {
	ID int64
	// Account is the user or organisation login the app is installed on.
	Account string
}

// defaultTokenLifetime is how long GitHub's installation tokens live.
const defaultTokenLifetime = time.Hour

// installationToken is what an issued installation token may do.
type installationToken struct {
	account string
	expires time.Time
}

// installationDoc is GitHub's installation document (the fields clients read).
type installationDoc struct {
	ID      int64  `json:"id"`
	AppID   int64  `json:"app_id"`
	Account user   `json:"account"`
	Target  string `json:"target_type"`
}

// accessTokenDoc is the answer of POST /app/installations/{id}/access_tokens.
type accessTokenDoc struct {
	Token               string            `json:"token"`
	ExpiresAt           time.Time         `json:"expires_at"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection"`
}

// IssuedTokens is how many installation tokens the server has created, for tests of caching.
func (s *Server) IssuedTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.installTokens)
}

// InstallationTokens are the installation tokens the server has issued, for tests proving
// that none of them is logged or shown.
func (s *Server) InstallationTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.installTokens))
}

// serveApp answers /app/... requests, which only an app's JWT may make.
func (s *Server) serveApp(w http.ResponseWriter, r *http.Request, parts []string) {
	app, msg := s.authenticateApp(r)
	if app == nil {
		writeError(w, http.StatusUnauthorized, msg)
		return
	}
	switch {
	case r.Method == http.MethodGet && len(parts) == 2 && parts[1] == "installations":
		out := []installationDoc{}
		for _, inst := range app.Installations {
			out = append(out, s.installationDoc(app, inst))
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodPost && len(parts) == 4 && parts[1] == "installations" && parts[3] == "access_tokens":
		id, _ := strconv.ParseInt(parts[2], 10, 64)
		for _, inst := range app.Installations {
			if inst.ID == id {
				s.issueToken(w, inst)
				return
			}
		}
		writeError(w, http.StatusNotFound, "Not Found")
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) installationDoc(app *App, inst Installation) installationDoc {
	kind := "User"
	if s.isOrg(inst.Account) {
		kind = "Organization"
	}
	return installationDoc{ID: inst.ID, AppID: app.ID, Account: user{Login: inst.Account, ID: inst.ID, Type: kind}, Target: kind}
}

func (s *Server) issueToken(w http.ResponseWriter, inst Installation) {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	tok := "ghs_" + hex.EncodeToString(b)
	life := s.opts.TokenLifetime
	if life == 0 {
		life = defaultTokenLifetime
	}
	exp := time.Now().Add(life).UTC().Truncate(time.Second)
	s.mu.Lock()
	if s.installTokens == nil {
		s.installTokens = map[string]installationToken{}
	}
	s.installTokens[tok] = installationToken{account: inst.Account, expires: exp}
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, accessTokenDoc{Token: tok, ExpiresAt: exp,
		Permissions: map[string]string{"contents": "write", "metadata": "read"}, RepositorySelection: "all"})
}

// authenticateApp verifies the request's JWT against the registered apps' keys. The
// messages are GitHub's.
func (s *Server) authenticateApp(r *http.Request) (*App, string) {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return nil, "A JSON web token could not be decoded"
	}
	var claims jwt.RegisteredClaims
	var app *App
	_, err := jwt.ParseWithClaims(strings.TrimSpace(raw), &claims, func(t *jwt.Token) (any, error) {
		iss, _ := t.Claims.GetIssuer()
		id, _ := strconv.ParseInt(iss, 10, 64)
		for i := range s.opts.Apps {
			if s.opts.Apps[i].ID == id {
				app = &s.opts.Apps[i]
				return app.PublicKey, nil
			}
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	switch {
	case app == nil:
		return nil, "Integration not found"
	case err != nil:
		return nil, "A JSON web token could not be decoded"
	case claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute+time.Second:
		return nil, "'Expiration time' claim ('exp') is too far in the future"
	}
	return app, ""
}

// installationAccount is the account of a live installation token given as basic auth
// password or bearer/token header; ok is false when the request carries none.
func (s *Server) installationAccount(r *http.Request) (account string, ok bool) {
	var tok string
	if _, p, basic := r.BasicAuth(); basic {
		tok = p
	} else if scheme, rest, cut := strings.Cut(r.Header.Get("Authorization"), " "); cut && (strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer")) {
		tok = strings.TrimSpace(rest)
	}
	if !strings.HasPrefix(tok, "ghs_") {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, found := s.installTokens[tok]
	if !found || time.Now().After(it.expires) {
		return "", false
	}
	return it.account, true
}
