package cloudapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The fixed names of Google's token exchange and service account credentials endpoints.
const (
	googleSTSHost            = "sts.googleapis.com"
	googleIAMCredentialsHost = "iamcredentials.googleapis.com"
)

// GoogleIAMOptions are the identities Google's Security Token Service and IAM Service
// Account Credentials API accept.
type GoogleIAMOptions struct {
	// Verify checks the Kubernetes service account tokens STS is given (TokenReview).
	Verify VerifyFunc
	// Pool is the GKE cluster's workload identity pool ("<project>.svc.id.goog"), the
	// audience the service account tokens must have; "" accepts none through it.
	Pool string
	// Providers are workload identity pool providers trusting the cluster's service account
	// tokens (projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<id>,
	// clusters outside GKE): the exchange's audience and the tokens' audience are then
	// "//iam.googleapis.com/" + the provider.
	Providers []string
	// ServiceAccountSubjects maps a Google service account's email to the one Kubernetes
	// service account (system:serviceaccount:<ns>:<name>) allowed to impersonate it
	// (roles/iam.workloadIdentityUser).
	ServiceAccountSubjects map[string]string
	// AccessToken is the token generateAccessToken issues (a registry's password).
	AccessToken string
}

// GoogleIAM serves STS token exchange (POST /v1/token) and generateAccessToken over HTTPS,
// reached under their real names through RouteHost and HTTPClient.
type GoogleIAM struct {
	counter
	opts GoogleIAMOptions
	// federated maps the federated tokens STS issued to their Kubernetes subject.
	federated map[string]string
	// Audiences records the audience of each token exchange.
	Audiences []string
}

// StartGoogleIAM runs the server until the end of the test and routes Google's endpoint
// names to it. Not for parallel tests: the routes are process-wide.
func StartGoogleIAM(t testing.TB, opts GoogleIAMOptions) *GoogleIAM {
	certs, err := entraCerts()
	if err != nil {
		t.Fatal(err)
	}
	g := &GoogleIAM{opts: opts, federated: map[string]string{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	if srv.TLS, err = certs.ServerConfig(false); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	RouteHost(googleSTSHost, addr)
	RouteHost(googleIAMCredentialsHost, addr)
	t.Cleanup(func() {
		routeMu.Lock()
		defer routeMu.Unlock()
		delete(routes, googleSTSHost+":443")
		delete(routes, googleIAMCredentialsHost+":443")
	})
	return g
}

func (g *GoogleIAM) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Host == googleSTSHost && r.URL.Path == "/v1/token" && r.Method == http.MethodPost:
		g.exchange(w, r)
	case r.Host == googleIAMCredentialsHost && strings.HasSuffix(r.URL.Path, ":generateAccessToken") && r.Method == http.MethodPost:
		g.generateAccessToken(w, r)
	default:
		googleError(w, http.StatusNotFound, "NOT_FOUND", "unknown endpoint "+r.Host+r.URL.Path)
	}
}

// exchange is STS's OAuth 2.0 token exchange (RFC 8693) of a workload's OIDC token.
func (g *GoogleIAM) exchange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be form-encoded")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" || f.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unsupported grant or subject token type")
		return
	}
	audience := f.Get("audience")
	g.mu.Lock()
	g.Audiences = append(g.Audiences, audience)
	g.mu.Unlock()
	tokenAudience := g.tokenAudience(audience)
	if tokenAudience == "" {
		oauthError(w, http.StatusBadRequest, "invalid_target", "The target service indicated by the \"audience\" parameters is invalid.")
		return
	}
	sub, err := g.opts.Verify(f.Get("subject_token"), tokenAudience)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The audience or signature of the subject token is invalid.")
		return
	}
	token := Secret("ya29.federated-")
	g.mu.Lock()
	g.federated[token] = sub
	g.mu.Unlock()
	g.add(func(c *Counts) { c.GoogleSTS++ })
	writeJSON(w, map[string]any{"access_token": token, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600})
}

// tokenAudience is the audience the subject tokens of an exchange for audience must have:
// the GKE pool for its identity namespace, the provider's full name for a configured
// workload identity provider; "" for an audience STS does not know.
func (g *GoogleIAM) tokenAudience(audience string) string {
	if g.opts.Pool != "" && strings.HasPrefix(audience, "identitynamespace:"+g.opts.Pool+":") {
		return g.opts.Pool
	}
	for _, p := range g.opts.Providers {
		if audience == "//iam.googleapis.com/"+p {
			return audience
		}
	}
	return ""
}

// FederatedSubject returns the Kubernetes subject a federated token STS issued stands for
// (direct resource access, without impersonation).
func (g *GoogleIAM) FederatedSubject(token string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sub, ok := g.federated[token]
	return sub, ok
}

// generateAccessToken issues the Google service account's token to a federated token whose
// subject may impersonate it.
func (g *GoogleIAM) generateAccessToken(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSuffix(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:], ":generateAccessToken")
	g.mu.Lock()
	sub, ok := g.federated[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	g.mu.Unlock()
	switch {
	case !ok:
		googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
		return
	case g.opts.ServiceAccountSubjects[email] != sub:
		googleError(w, http.StatusForbidden, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).")
		return
	}
	g.add(func(c *Counts) { c.GoogleIAM++ })
	writeJSON(w, map[string]any{"accessToken": g.opts.AccessToken, "expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
}

func googleError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": code}})
}
