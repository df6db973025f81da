// Package vaultapi is a test server speaking the part of HashiCorp Vault's HTTP API that SOPS
// uses: the transit secrets engine's encrypt and decrypt endpoints
// (POST /v1/<mount>/encrypt/<key>, POST /v1/<mount>/decrypt/<key>), with X-Vault-Token
// authentication and Vault's error bodies ({"errors": [...]}).
//
// A real Vault dev server builds from the Go module proxy, but takes some ten minutes and
// gigabytes of memory to compile (see PEERS.md): this server is written to Vault's API
// reference instead, and keeps real cryptography (AES-256-GCM, one key per transit key name,
// ciphertexts "vault:v1:<base64>") so a ciphertext only decrypts under the key that made it.
package vaultapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is a running transit API on 127.0.0.1.
type Server struct {
	srv   *httptest.Server
	token string
	mount string

	mu       sync.Mutex
	keys     map[string]cipher.AEAD
	refused  map[string]bool
	requests int
}

// Start runs a server accepting token on the transit engine mounted at mount; it stops at the
// end of the test.
func Start(t testing.TB, token, mount string) *Server {
	t.Helper()
	s := &Server{token: token, mount: strings.Trim(mount, "/"), keys: map[string]cipher.AEAD{}, refused: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// Address is the server's base URL (a SOPS hc_vault key's vault_address).
func (s *Server) Address() string { return s.srv.URL }

// Refuse makes decryptions with key fail with permission denied, as a policy revoked
// after encryption does.
func (s *Server) Refuse(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[key] = true
}

// Requests is the number of transit requests served.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func vaultError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string][]string{"errors": {msg}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/"+s.mount+"/")
	op, key, found := strings.Cut(rest, "/")
	if !ok || !found || r.Method != http.MethodPost && r.Method != http.MethodPut {
		vaultError(w, http.StatusNotFound, "no handler for route \""+r.URL.Path+"\"")
		return
	}
	if r.Header.Get("X-Vault-Token") != s.token {
		vaultError(w, http.StatusForbidden, "permission denied")
		return
	}
	var body struct {
		Plaintext  string `json:"plaintext"`
		Ciphertext string `json:"ciphertext"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		vaultError(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
		return
	}
	s.mu.Lock()
	s.requests++
	aead, exists := s.keys[key]
	refused := s.refused[key]
	if !exists && op == "encrypt" {
		// Vault's transit engine creates a key on first encryption (upsert).
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		block, _ := aes.NewCipher(k)
		aead, _ = cipher.NewGCM(block)
		s.keys[key], exists = aead, true
	}
	s.mu.Unlock()
	switch {
	case refused:
		vaultError(w, http.StatusForbidden, "permission denied")
	case op == "encrypt":
		plain, err := base64.StdEncoding.DecodeString(body.Plaintext)
		if err != nil {
			vaultError(w, http.StatusBadRequest, "failed to base64-decode plaintext")
			return
		}
		nonce := make([]byte, aead.NonceSize())
		_, _ = rand.Read(nonce)
		ct := "vault:v1:" + base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, nil))
		writeData(w, map[string]any{"ciphertext": ct, "key_version": 1})
	case op == "decrypt" && !exists:
		vaultError(w, http.StatusBadRequest, "encryption key not found")
	case op == "decrypt":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(body.Ciphertext, "vault:v1:"))
		if err != nil || !strings.HasPrefix(body.Ciphertext, "vault:v1:") || len(raw) < aead.NonceSize() {
			vaultError(w, http.StatusBadRequest, "invalid ciphertext: no prefix")
			return
		}
		plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
		if err != nil {
			vaultError(w, http.StatusBadRequest, "cipher: message authentication failed")
			return
		}
		writeData(w, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(plain)})
	default:
		vaultError(w, http.StatusNotFound, "no handler for route \""+r.URL.Path+"\"")
	}
}

func writeData(w http.ResponseWriter, data map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}
