package dex

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestStartServesDiscovery starts the real Dex and reads its discovery document: the issuer
// it names is the one tests give their OIDC clients, and it advertises PKCE (S256).
func TestStartServesDiscovery(t *testing.T) {
	s := Start(t, Options{
		Clients: []Client{{ID: "ui", Secret: "s3cret", RedirectURIs: []string{"http://127.0.0.1:1/callback"}}},
		Users:   []User{{Email: "alice@example.com", Password: "pw", Username: "alice", Groups: []string{"team-a"}}},
	})
	res, err := http.Get(s.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Issuer     string   `json:"issuer"`
		Challenges []string `json:"code_challenge_methods_supported"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != s.Issuer() {
		t.Errorf("issuer %q, want %q", doc.Issuer, s.Issuer())
	}
	found := false
	for _, c := range doc.Challenges {
		found = found || c == "S256"
	}
	if !found {
		t.Errorf("PKCE S256 not advertised: %v", doc.Challenges)
	}
}
