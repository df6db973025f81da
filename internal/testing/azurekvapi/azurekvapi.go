// Package azurekvapi is a test server written to the public Microsoft identity platform and
// Azure Key Vault REST references, on one TLS listener on 127.0.0.1:
//
//   - the authority (AZURE_AUTHORITY_HOST, or a sops.azure-kv entry's authorityHost):
//     GET /{tenant}/v2.0/.well-known/openid-configuration and the client credentials grant
//     POST /{tenant}/oauth2/v2.0/token with a client secret, a certificate-signed client
//     assertion (PS256/RS256 JWT, as MSAL sends) or a federated token (workload identity);
//   - a managed identity endpoint as App Service hosts it (IDENTITY_ENDPOINT, IDENTITY_HEADER):
//     GET /msi/token?resource=...&client_id=... with the X-IDENTITY-HEADER secret;
//   - a Key Vault: POST /keys/{name}/{version}/encrypt and /decrypt with RSA-OAEP-256 under a
//     real RSA key per key name, behind Key Vault's challenge: a request without a token is
//     answered 401 with a WWW-Authenticate naming the authority, the tenant and the resource.
//
// The Azure SDK sends tokens over TLS only, so the server's CA must be trusted by the process:
// TrustCA points SSL_CERT_FILE at it, which Go reads when a TLS client first needs the system
// roots; call it from TestMain.
//
// Key Vault's SDK checks that the challenge's resource is a parent domain of the vault's host.
// Without DNS, the vault is https://127.0.0.1:PORT and the resource https://0.0.1:PORT, its
// only "parent" that fits; tokens are issued for that resource's /.default scope only.
package azurekvapi

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"gotk.dev/internal/testing/pki"
)

// Tenant is the directory (tenant) ID the server's authority serves.
const Tenant = "7d3a1f0e-5c2b-4e8f-9a61-0b4c2d8e6f10"

var (
	caMu    sync.Mutex
	caCerts *pki.Certs
)

// TrustCA generates the CA of this process's servers, writes it to dir and points
// SSL_CERT_FILE at it (the only roots the process then trusts). Go reads SSL_CERT_FILE once,
// when a TLS client first verifies against the system roots: call it from TestMain, before
// anything dials TLS without its own roots.
func TrustCA(dir string) error {
	caMu.Lock()
	defer caMu.Unlock()
	if caCerts != nil {
		return nil
	}
	c, err := pki.New("gotk azurekvapi CA")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "azurekvapi-ca.crt")
	if err := os.WriteFile(path, c.CAPEM, 0o600); err != nil {
		return err
	}
	caCerts = c
	return os.Setenv("SSL_CERT_FILE", path)
}

// Server is a running authority and Key Vault.
type Server struct {
	srv *httptest.Server

	mu sync.Mutex
	// secrets are the registered applications' client secrets by client ID.
	secrets map[string]string
	// certs are the registered applications' certificates by client ID.
	certs map[string]*x509.Certificate
	// federated are the accepted federated (workload identity) tokens by client ID.
	federated map[string]string
	// federatedVerifiers check federated tokens by client ID (a Kubernetes TokenReview).
	federatedVerifiers map[string]func(token string) bool
	// managed are the user-assigned managed identities' client IDs; identityHeader is the
	// secret their endpoint requires.
	managed        map[string]bool
	identityHeader string
	// tokens maps issued access tokens to the client they were issued to.
	tokens   map[string]string
	keys     map[string]*rsa.PrivateKey
	disabled map[string]bool
	requests int
}

// Start runs a server until the end of the test. TrustCA must have been called.
func Start(t testing.TB) *Server {
	t.Helper()
	caMu.Lock()
	c := caCerts
	caMu.Unlock()
	if c == nil {
		t.Fatal("azurekvapi: call azurekvapi.TrustCA from TestMain first")
	}
	cfg, err := c.ServerConfig(false)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{secrets: map[string]string{}, certs: map[string]*x509.Certificate{}, federated: map[string]string{}, managed: map[string]bool{},
		tokens: map[string]string{}, keys: map[string]*rsa.PrivateKey{}, disabled: map[string]bool{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.TLS = cfg
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// AuthorityHost is the authority's base URL (AZURE_AUTHORITY_HOST, authorityHost).
func (s *Server) AuthorityHost() string { return s.srv.URL + "/" }

// VaultURL is the Key Vault's URL (a SOPS document's vault_url).
func (s *Server) VaultURL() string { return s.srv.URL }

// resource is the Key Vault resource named in challenges (see the package comment).
func (s *Server) resource() string {
	return "https://0.0.1:" + s.srv.URL[strings.LastIndex(s.srv.URL, ":")+1:]
}

// Requests counts the Key Vault key operations asked for.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// AddClientSecret registers an application that authenticates with a client secret.
func (s *Server) AddClientSecret(clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[clientID] = secret
}

// AddClientCertificate registers an application that authenticates with the certificate.
func (s *Server) AddClientCertificate(clientID string, cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs[clientID] = cert
}

// AddFederatedToken registers an application that authenticates with a federated token (a
// Kubernetes service account token, in workload identity).
func (s *Server) AddFederatedToken(clientID, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.federated[clientID] = token
}

// AddFederatedVerifier registers an application whose federated identity credential trusts
// the tokens verify accepts: a service account's tokens, checked with the API server
// (TokenReview), as Entra ID checks them with the cluster's OIDC issuer.
func (s *Server) AddFederatedVerifier(clientID string, verify func(token string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.federatedVerifiers == nil {
		s.federatedVerifiers = map[string]func(string) bool{}
	}
	s.federatedVerifiers[clientID] = verify
}

// AddManagedIdentity registers a user-assigned managed identity and returns the App Service
// managed identity endpoint and header secret (IDENTITY_ENDPOINT, IDENTITY_HEADER) that issue
// its tokens.
func (s *Server) AddManagedIdentity(clientID string) (endpoint, header string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.managed[clientID] = true
	if s.identityHeader == "" {
		raw := make([]byte, 12)
		_, _ = rand.Read(raw)
		s.identityHeader = hex.EncodeToString(raw)
	}
	return s.srv.URL + "/msi/token", s.identityHeader
}

// CreateKey makes an RSA key and returns its version.
func (s *Server) CreateKey(name string) string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256([]byte(name + s.srv.URL))
	version := hex.EncodeToString(sum[:16])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[name+"/"+version] = k
	return version
}

// Disable makes a key refuse every operation, as a disabled key does.
func (s *Server) Disable(name, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[name+"/"+version] = true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/msi/token" && r.Method == http.MethodGet:
		s.serveManagedIdentity(w, r)
	case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		s.serveOpenIDConfiguration(w, parts[0])
	case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token" && r.Method == http.MethodPost:
		s.serveToken(w, r, parts[0])
	case len(parts) == 4 && parts[0] == "keys" && r.Method == http.MethodPost:
		s.serveKeyOperation(w, r, parts[1], parts[2], parts[3])
	default:
		keyVaultError(w, http.StatusNotFound, "NotFound", "unknown path "+r.URL.Path)
	}
}

func (s *Server) serveOpenIDConfiguration(w http.ResponseWriter, tenant string) {
	base := s.srv.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]string{
		"issuer":                 base + "/v2.0",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"token_endpoint":         base + "/oauth2/v2.0/token",
	})
}

// serveToken answers the client credentials grant as the identity platform does, with AADSTS
// error codes.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must be form-encoded.")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	switch {
	case tenant != Tenant:
		oauthError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant '"+tenant+"' not found.")
		return
	case f.Get("grant_type") != "client_credentials":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
		return
	case !slices.Contains(strings.Fields(f.Get("scope")), s.resource()+"/.default"):
		oauthError(w, http.StatusBadRequest, "invalid_scope", "AADSTS70011: The provided value for scope is not valid.")
		return
	}
	s.mu.Lock()
	secret, hasSecret := s.secrets[clientID]
	cert := s.certs[clientID]
	federated, hasFederated := s.federated[clientID]
	verify := s.federatedVerifiers[clientID]
	s.mu.Unlock()
	var ok bool
	switch {
	case f.Has("client_secret"):
		ok = hasSecret && f.Get("client_secret") == secret
	case f.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		assertion := f.Get("client_assertion")
		ok = (hasFederated && assertion == federated) || (cert != nil && validAssertion(assertion, cert, clientID)) ||
			(verify != nil && verify(assertion))
	}
	if !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret or assertion provided for application '"+clientID+"'.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": s.issue(clientID)})
}

// serveManagedIdentity answers App Service's managed identity token request.
func (s *Server) serveManagedIdentity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID := q.Get("client_id")
	s.mu.Lock()
	ok := s.identityHeader != "" && r.Header.Get("X-IDENTITY-HEADER") == s.identityHeader && s.managed[clientID]
	s.mu.Unlock()
	switch {
	case !ok:
		writeJSON(w, http.StatusBadRequest, map[string]any{"statusCode": 400, "message": "No managed identity with client ID '" + clientID + "' is assigned to this resource."})
		return
	case q.Get("resource") != s.resource():
		writeJSON(w, http.StatusBadRequest, map[string]any{"statusCode": 400, "message": "Unknown resource."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": s.issue(clientID), "expires_in": 3599, "resource": s.resource(), "token_type": "Bearer", "client_id": clientID})
}

// issue makes an access token for clientID.
func (s *Server) issue(clientID string) string {
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	token := "eyJ0eXAi." + hex.EncodeToString(raw)
	s.mu.Lock()
	s.tokens[token] = clientID
	s.mu.Unlock()
	return token
}

// validAssertion checks a client assertion signed with the certificate's key for this
// client, as MSAL makes it.
func validAssertion(assertion string, cert *x509.Certificate, clientID string) bool {
	claims := jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(assertion, &claims, func(*jwt.Token) (any, error) { return cert.PublicKey, nil },
		jwt.WithValidMethods([]string{"PS256", "RS256"}), jwt.WithExpirationRequired(), jwt.WithIssuer(clientID), jwt.WithSubject(clientID))
	return err == nil
}

type keyOperation struct {
	Alg   string `json:"alg"`
	Value string `json:"value"`
}

// serveKeyOperation answers encrypt and decrypt with RSA-OAEP-256, after Key Vault's
// challenge.
func (s *Server) serveKeyOperation(w http.ResponseWriter, r *http.Request, name, version, op string) {
	token, hasToken := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	_, issued := s.tokens[token]
	s.mu.Unlock()
	if !hasToken || !issued {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="%s/%s", resource="%s"`, s.srv.URL, Tenant, s.resource()))
		keyVaultError(w, http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	s.mu.Lock()
	s.requests++
	key := s.keys[name+"/"+version]
	disabled := s.disabled[name+"/"+version]
	s.mu.Unlock()
	var body keyOperation
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		keyVaultError(w, http.StatusBadRequest, "BadParameter", "The request body is not valid JSON.")
		return
	}
	switch {
	case key == nil:
		keyVaultError(w, http.StatusNotFound, "KeyNotFound", fmt.Sprintf("A key with (name/id) %s/%s was not found in this key vault.", name, version))
		return
	case disabled:
		keyVaultError(w, http.StatusForbidden, "Forbidden", "Operation "+op+" is not allowed on a disabled key.")
		return
	case body.Alg != "RSA-OAEP-256":
		keyVaultError(w, http.StatusBadRequest, "BadParameter", "Algorithm "+body.Alg+" is not supported by this server.")
		return
	}
	value, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(body.Value, "="))
	if err != nil {
		keyVaultError(w, http.StatusBadRequest, "BadParameter", "value is not base64url.")
		return
	}
	var out []byte
	switch op {
	case "encrypt":
		out, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, &key.PublicKey, value, nil)
	case "decrypt":
		out, err = key.Decrypt(rand.Reader, value, &rsa.OAEPOptions{Hash: crypto.SHA256})
	default:
		err = errors.New("unknown operation")
	}
	if err != nil {
		keyVaultError(w, http.StatusBadRequest, "BadParameter", "The "+op+" operation failed.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"kid":   s.srv.URL + "/keys/" + name + "/" + version,
		"value": base64.RawURLEncoding.EncodeToString(out),
	})
}

// CertificatePEM makes a self-signed certificate and its key (PEM, as a
// clientCertificate field holds them) for AddClientCertificate.
func CertificatePEM(t testing.TB, cn string) (*x509.Certificate, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := selfSigned(cn, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	return cert, out
}

// selfSigned is a self-signed certificate for key, valid for a day.
func selfSigned(cn string, key *rsa.PrivateKey) ([]byte, error) {
	now := time.Now().Add(-time.Minute)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now,
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, code int, kind, description string) {
	writeJSON(w, code, map[string]any{"error": kind, "error_description": description, "error_codes": []int{}})
}

func keyVaultError(w http.ResponseWriter, code int, kind, message string) {
	writeJSON(w, code, map[string]any{"error": map[string]string{"code": kind, "message": message}})
}
