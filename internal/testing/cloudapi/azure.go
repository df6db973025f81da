package cloudapi

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"gotk.dev/internal/testing/pki"
)

// EntraIDOptions is the workload identity the token endpoint accepts.
type EntraIDOptions struct {
	TenantID, ClientID string
	// FederatedToken is the client assertion a workload presents (the projected service
	// account token azidentity reads from AZURE_FEDERATED_TOKEN_FILE).
	FederatedToken string
	// Verify, with FederatedSubjects, also accepts service account tokens as assertions of
	// other clients: FederatedSubjects maps a client ID to the one token subject its
	// federated identity credential trusts.
	Verify            VerifyFunc
	FederatedSubjects map[string]string
}

// EntraID serves a tenant's OpenID configuration and v2.0 token endpoint over HTTPS.
type EntraID struct {
	counter
	// URL is the authority host (AZURE_AUTHORITY_HOST), with a trailing slash.
	URL  string
	opts EntraIDOptions
	// AccessToken is what it issues.
	AccessToken string
	// Scopes records the scope of each token request.
	Scopes []string
	// Refuse makes the token endpoint reject every assertion.
	Refuse atomic.Bool
	certs  *pki.Certs
}

// StartEntraID runs the server until the end of the test.
func StartEntraID(t testing.TB, opts EntraIDOptions) *EntraID {
	certs, err := entraCerts()
	if err != nil {
		t.Fatal(err)
	}
	e := &EntraID{opts: opts, AccessToken: Secret("aad-"), certs: certs}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(e.serve))
	if srv.TLS, err = certs.ServerConfig(false); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.URL = srv.URL + "/"
	return e
}

// entraCerts is one CA for every Entra ID server of the process, so a client made before
// a server starts (a controller's) trusts it: see HTTPClient.
var entraCerts = sync.OnceValues(func() (*pki.Certs, error) {
	return pki.NewForHosts("gotk test cloud identity", googleSTSHost, googleIAMCredentialsHost)
})

// HTTPClient trusts the Entra ID servers' CA: the client a controller under test makes its
// cloud identity calls with (cloud.Logins.HTTPClient).
func HTTPClient() *http.Client {
	certs, err := entraCerts()
	if err != nil {
		panic(err)
	}
	// Google's identity endpoints have fixed names (no SDK override): RouteHost sends them
	// to the test server.
	return &http.Client{Transport: &http.Transport{TLSClientConfig: certs.ClientConfig(), Proxy: http.ProxyFromEnvironment,
		DialContext: routedDial((&net.Dialer{}).DialContext)}}
}

func (e *EntraID) serve(w http.ResponseWriter, r *http.Request) {
	tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	base := strings.TrimSuffix(e.URL, "/") + "/" + tenant
	switch {
	case tenant != e.opts.TenantID:
		oauthError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant not found.")
	case rest == "v2.0/.well-known/openid-configuration":
		writeJSON(w, map[string]any{
			"token_endpoint":                base + "/oauth2/v2.0/token",
			"authorization_endpoint":        base + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
			"issuer":                        base + "/v2.0",
		})
	case rest == "oauth2/v2.0/token" && r.Method == http.MethodPost:
		if err := r.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		f := r.PostForm
		if e.Refuse.Load() || !e.trusted(f.Get("client_id"), f.Get("client_assertion")) || f.Get("grant_type") != "client_credentials" {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS700213: No matching federated identity record found for presented assertion.")
			return
		}
		e.add(func(c *Counts) { c.EntraID++ })
		e.mu.Lock()
		e.Scopes = append(e.Scopes, f.Get("scope"))
		e.mu.Unlock()
		writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": e.AccessToken})
	default:
		http.NotFound(w, r)
	}
}

// trusted reports whether assertion authenticates client.
func (e *EntraID) trusted(client, assertion string) bool {
	if client == e.opts.ClientID && assertion == e.opts.FederatedToken {
		return true
	}
	want, ok := e.opts.FederatedSubjects[client]
	if !ok || e.opts.Verify == nil {
		return false
	}
	sub, err := e.opts.Verify(assertion, "api://AzureADTokenExchange")
	return err == nil && sub == want
}

// ACRRefreshToken makes the refresh token an ACR exchange hands out: a JWT (as ACR's)
// that expires in ttl. It is unsigned and kept under 72 bytes, the most a bcrypt htpasswd
// entry of the real registry standing in for ACR can hold (ACR's own are longer).
func ACRRefreshToken(ttl time.Duration) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(ttl))})
	delete(tok.Header, "typ")
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		panic(err)
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc, "error_codes": []int{700213}})
}
