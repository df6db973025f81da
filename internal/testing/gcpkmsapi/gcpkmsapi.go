// Package gcpkmsapi is a test server written to Google Cloud KMS's public REST reference:
// POST /v1/{cryptoKey}:encrypt and :decrypt with base64 plaintext and ciphertext, behind
// OAuth 2.0 bearer tokens. A service account key made for the test (ServiceAccountJSON) is the
// only identity it accepts: requests carry either an access token from its token endpoint
// (the JWT-bearer grant, as Google's token_uri) or a JWT self-signed with that key, as Google's
// client libraries send for service accounts. Ciphertexts are real AES-256-GCM under a key per
// crypto key name, so data only decrypts under the key that made it.
package gcpkmsapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// Server is a running KMS REST API on 127.0.0.1.
type Server struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu       sync.Mutex
	keys     map[string]cipher.AEAD
	tokens   map[string]bool
	disabled map[string]bool
}

// Start runs a server until the end of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{key: key, keys: map[string]cipher.AEAD{}, tokens: map[string]bool{}, disabled: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// AcceptToken makes the server accept an access token Google issued elsewhere (a
// workload identity's impersonated service account token, from cloudapi.GoogleIAM).
func (s *Server) AcceptToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = true
}

// Endpoint is the base URL (SOPS_GCP_KMS_ENDPOINT, with the REST client).
func (s *Server) Endpoint() string { return s.srv.URL }

// ServiceAccountJSON is a service account key file whose token_uri is this server: what a
// sops.gcp-kms Secret entry holds.
func (s *Server) ServiceAccountJSON() []byte {
	b, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "gotk-test",
		"private_key_id": "test-key-1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.key)})),
		"client_email":   "sops@gotk-test.iam.gserviceaccount.com",
		"client_id":      "1",
		"token_uri":      s.srv.URL + "/token",
	})
	return b
}

// Disable makes a crypto key refuse operations (FAILED_PRECONDITION), as a disabled key
// version does.
func (s *Server) Disable(cryptoKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[cryptoKey] = true
}

type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, status, msg string) {
	var e googleError
	e.Error.Code, e.Error.Status, e.Error.Message = code, status, msg
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(e)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		s.serveToken(w, r)
		return
	}
	name, op, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), ":")
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.URL.Path, "/v1/projects/") {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "unknown method "+r.URL.Path)
		return
	}
	if !s.authorized(r.Header.Get("Authorization")) {
		writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
		return
	}
	var body struct {
		Plaintext  []byte `json:"plaintext"`
		Ciphertext []byte `json:"ciphertext"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid JSON body")
		return
	}
	s.mu.Lock()
	aead, exists := s.keys[name]
	if !exists && op == "encrypt" {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		block, _ := aes.NewCipher(k)
		aead, _ = cipher.NewGCM(block)
		s.keys[name], exists = aead, true
	}
	disabled := s.disabled[name]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case disabled:
		writeError(w, http.StatusBadRequest, "FAILED_PRECONDITION", "The request cannot be fulfilled. Resource "+name+" is not in state ENABLED.")
	case !exists:
		writeError(w, http.StatusNotFound, "NOT_FOUND", name+" not found.")
	case op == "encrypt":
		nonce := make([]byte, aead.NonceSize())
		_, _ = rand.Read(nonce)
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "ciphertext": aead.Seal(nonce, nonce, body.Plaintext, nil)})
	case op == "decrypt":
		if len(body.Ciphertext) < aead.NonceSize() {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
			return
		}
		plain, err := aead.Open(nil, body.Ciphertext[:aead.NonceSize()], body.Ciphertext[aead.NonceSize():], nil)
		if err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"plaintext": plain})
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "unknown method "+op)
	}
}

// serveToken answers the JWT-bearer grant for an assertion signed with the service account key.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || !s.validJWT(r.PostForm.Get("assertion")) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
		return
	}
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	token := "ya29." + hex.EncodeToString(raw)
	s.mu.Lock()
	s.tokens[token] = true
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
}

func (s *Server) authorized(header string) bool {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	issued := s.tokens[token]
	s.mu.Unlock()
	return issued || s.validJWT(token)
}

func (s *Server) validJWT(token string) bool {
	_, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	return err == nil
}
