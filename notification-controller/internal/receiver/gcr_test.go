package receiver

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

const (
	hookURL   = "https://flux-webhook.example.com/hook/abc"
	pushEmail = "gcr-push@my-project.iam.gserviceaccount.com"
)

// googleSigner is a stand-in for Google: an RSA key the test generates, its JWKS served on
// 127.0.0.1, and ID tokens signed with it.
type googleSigner struct {
	key    *rsa.PrivateKey
	signer jose.Signer
	jwks   *httptest.Server
}

func newGoogleSigner(t *testing.T, kid string) *googleSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return &googleSigner{key: key, signer: signer, jwks: srv}
}

type pushClaims struct {
	jwt.Claims
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
}

func (g *googleSigner) token(t *testing.T, mutate func(*pushClaims)) string {
	t.Helper()
	c := pushClaims{
		Claims: jwt.Claims{Issuer: "https://accounts.google.com", Audience: jwt.Audience{hookURL}, Subject: "1234",
			IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))},
		Email: pushEmail, EmailVerified: true,
	}
	if mutate != nil {
		mutate(&c)
	}
	raw, err := jwt.Signed(g.signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func gcrBody(action string) string {
	data := base64.StdEncoding.EncodeToString([]byte(`{"action":"` + action + `","digest":"gcr.io/p/app@sha256:abc","tag":"gcr.io/p/app:v1"}`))
	return `{"message":{"data":"` + data + `","messageId":"1"},"subscription":"projects/p/subscriptions/flux"}`
}

func TestGCR(t *testing.T) {
	google := newGoogleSigner(t, "key-1")
	attacker := newGoogleSigner(t, "key-1") // same key ID, different key
	cfg := Config{Receiver: receiverOf(apiv1.GCRReceiver), Token: token,
		GCR: GCRConfig{Audience: hookURL, Email: pushEmail, JWKSURL: google.jwks.URL}}
	tests := []struct {
		name    string
		token   string
		body    string
		cfg     func(*GCRConfig)
		want    int
		trigger bool
	}{
		{name: "valid push", token: google.token(t, nil), body: gcrBody("INSERT"), want: 200, trigger: true},
		{name: "legacy issuer spelling", token: google.token(t, func(c *pushClaims) { c.Issuer = "accounts.google.com" }), body: gcrBody("INSERT"), want: 200, trigger: true},
		{name: "deletion acknowledged, no trigger", token: google.token(t, nil), body: gcrBody("DELETE"), want: 200},
		{name: "token for another audience", token: google.token(t, func(c *pushClaims) { c.Audience = jwt.Audience{"https://other.example.com/push"} }), body: gcrBody("INSERT"), want: 401},
		{name: "token of another service account", token: google.token(t, func(c *pushClaims) { c.Email = "someone@else.iam.gserviceaccount.com" }), body: gcrBody("INSERT"), want: 401},
		{name: "unverified email", token: google.token(t, func(c *pushClaims) { c.EmailVerified = false }), body: gcrBody("INSERT"), want: 401},
		{name: "untrusted issuer", token: google.token(t, func(c *pushClaims) { c.Issuer = "https://evil.example.com" }), body: gcrBody("INSERT"), want: 401},
		{name: "expired", token: google.token(t, func(c *pushClaims) { c.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Hour)) }), body: gcrBody("INSERT"), want: 401},
		{name: "signed by another key", token: attacker.token(t, nil), body: gcrBody("INSERT"), want: 401},
		{name: "no token", token: "", body: gcrBody("INSERT"), want: 401},
		{name: "no identity configured refuses all", token: google.token(t, nil), body: gcrBody("INSERT"), cfg: func(c *GCRConfig) { c.Email = "" }, want: 401},
		{name: "not a push message", token: google.token(t, nil), body: `{"message":{"data":"!!"}}`, want: 400},
	}
	v := NewValidator(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			if tt.cfg != nil {
				tt.cfg(&c.GCR)
			}
			h := map[string]string{}
			if tt.token != "" {
				h["Authorization"] = "Bearer " + tt.token
			}
			d := v.Validate(t.Context(), request(tt.body, h), c)
			if d.Status != tt.want || d.Trigger != tt.trigger {
				t.Errorf("Validate = %d trigger=%v (%s), want %d trigger=%v", d.Status, d.Trigger, d.Message, tt.want, tt.trigger)
			}
			if tt.token != "" && strings.Contains(d.Message, tt.token) {
				t.Error("the message quotes the token")
			}
		})
	}
}
