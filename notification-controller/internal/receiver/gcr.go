package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Google's defaults for Pub/Sub push tokens.
const (
	GoogleJWKSURL = "https://www.googleapis.com/oauth2/v3/certs"
)

// GoogleIssuers are the issuers of Google-signed ID tokens.
func GoogleIssuers() []string { return []string{"https://accounts.google.com", "accounts.google.com"} }

// GCRConfig is the expected identity of a Pub/Sub push token. Both Audience and Email are
// required: a token is only accepted when Google signed it for this webhook (its `aud`) on
// behalf of the service account the subscription was configured with (its `email`).
// Checking the signature alone would accept a token minted for any other endpoint
// (CVE-2026-40109).
type GCRConfig struct {
	// Audience is the token audience the push subscription was configured with: the
	// webhook's full URL.
	Audience string
	// Email is the push subscription's service account.
	Email string
	// JWKSURL is where the signing keys are (GoogleJWKSURL when empty).
	JWKSURL string
	// Issuers accepted (GoogleIssuers() when empty).
	Issuers []string
}

type keySet = *oidc.RemoteKeySet

func (v *Validator) keySet(url string) keySet {
	v.mu.Lock()
	defer v.mu.Unlock()
	ks, ok := v.keySets[url]
	if !ok {
		// The key set fetches and caches keys, refreshing on an unknown key ID.
		ks = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), v.client), url)
		v.keySets[url] = ks
	}
	return ks
}

func (v *Validator) validateGCR(ctx context.Context, r *http.Request, body []byte, cfg GCRConfig) Decision {
	if err := v.verifyPushToken(ctx, r, cfg); err != nil {
		return refuse(http.StatusUnauthorized, "Pub/Sub push token: %v", err)
	}
	n, err := ParseGCR(body)
	if err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	// Answering non-2xx would make Pub/Sub redeliver a deletion forever: acknowledge it.
	if n.Action != "INSERT" {
		return Decision{Status: http.StatusOK, Message: fmt.Sprintf("ignoring %q notification", truncate(n.Action, 32)), Event: n.Action}
	}
	return Decision{Status: http.StatusOK, Trigger: true, Event: n.Action}
}

func (v *Validator) verifyPushToken(ctx context.Context, r *http.Request, cfg GCRConfig) error {
	if cfg.Audience == "" || cfg.Email == "" {
		return errors.New("the Receiver has no expected audience and service account email configured")
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return errors.New("missing Authorization: Bearer token")
	}
	jwks := cfg.JWKSURL
	if jwks == "" {
		jwks = GoogleJWKSURL
	}
	issuers := cfg.Issuers
	if len(issuers) == 0 {
		issuers = GoogleIssuers()
	}
	verifier := oidc.NewVerifier("", v.keySet(jwks), &oidc.Config{
		ClientID:             cfg.Audience,
		SkipIssuerCheck:      true, // Google uses two spellings: checked below
		SupportedSigningAlgs: []string{oidc.RS256},
	})
	tok, err := verifier.Verify(oidc.ClientContext(ctx, v.client), raw)
	if err != nil {
		return tokenError(err)
	}
	issuerOK := false
	for _, iss := range issuers {
		issuerOK = issuerOK || tok.Issuer == iss
	}
	if !issuerOK {
		return fmt.Errorf("issuer %q is not trusted", truncate(tok.Issuer, 64))
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
	}
	if err := tok.Claims(&claims); err != nil {
		return errors.New("the token claims are malformed")
	}
	if !claims.EmailVerified || !strings.EqualFold(claims.Email, cfg.Email) {
		return fmt.Errorf("the token was issued to %q, not the configured service account", truncate(claims.Email, 128))
	}
	return nil
}

// tokenError keeps go-oidc's reason without quoting the token.
func tokenError(err error) error {
	var exp *oidc.TokenExpiredError
	switch {
	case errors.As(err, &exp):
		return errors.New("the token has expired")
	case strings.Contains(err.Error(), "audience"):
		return errors.New("the token's audience is not this webhook")
	case strings.Contains(err.Error(), "signature"):
		return errors.New("the token signature is not valid")
	default:
		return fmt.Errorf("the token is not valid: %s", truncate(err.Error(), 200))
	}
}
