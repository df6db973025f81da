package receiver

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strings"
)

// verifyHMAC checks a `<algo>=<hex>` signature of body keyed with token. Only the algorithms
// in allowed are accepted.
func verifyHMAC(sig string, body []byte, token string, allowed ...string) error {
	algo, hexSum, ok := strings.Cut(strings.TrimSpace(sig), "=")
	if !ok {
		return fmt.Errorf("the signature is not <algorithm>=<hex>")
	}
	algo = strings.ToLower(algo)
	permitted := false
	for _, a := range allowed {
		permitted = permitted || a == algo
	}
	var newHash func() hash.Hash
	switch algo {
	case "sha1":
		newHash = sha1.New
	case "sha256":
		newHash = sha256.New
	case "sha512":
		newHash = sha512.New
	}
	if !permitted || newHash == nil {
		return fmt.Errorf("signature algorithm %q is not supported", truncate(algo, 16))
	}
	return compareHMAC(newHash, hexSum, body, token)
}

func compareHMAC(newHash func() hash.Hash, hexSum string, body []byte, token string) error {
	if token == "" {
		return errNoToken
	}
	want, err := hex.DecodeString(strings.ToLower(hexSum))
	if err != nil {
		return fmt.Errorf("the signature is not hexadecimal")
	}
	m := hmac.New(newHash, []byte(token))
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), want) {
		return fmt.Errorf("the signature does not match the payload")
	}
	return nil
}

// tokenEqual compares in constant time.
func tokenEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func validateGenericHMAC(r *http.Request, body []byte, token string) Decision {
	sig := r.Header.Get("X-Signature")
	if sig == "" {
		return refuse(http.StatusUnauthorized, "missing X-Signature header")
	}
	if err := verifyHMAC(sig, body, token, "sha1", "sha256", "sha512"); err != nil {
		return refuse(http.StatusUnauthorized, "X-Signature: %v", err)
	}
	return Decision{Status: http.StatusOK, Trigger: true}
}

// validateGitHub checks X-Hub-Signature-256 (or the SHA-1 X-Hub-Signature of older servers
// and Gitea), then filters X-GitHub-Event by spec.events; a ping is answered without trigger.
func validateGitHub(r *http.Request, body []byte, token string, events []string) Decision {
	var err error
	switch {
	case r.Header.Get("X-Hub-Signature-256") != "":
		err = verifyHMAC(r.Header.Get("X-Hub-Signature-256"), body, token, "sha256")
	case r.Header.Get("X-Hub-Signature") != "":
		err = verifyHMAC(r.Header.Get("X-Hub-Signature"), body, token, "sha1", "sha256")
	default:
		return refuse(http.StatusUnauthorized, "missing X-Hub-Signature-256 header")
	}
	if err != nil {
		return refuse(http.StatusUnauthorized, "GitHub signature: %v", err)
	}
	event := r.Header.Get("X-GitHub-Event")
	if event == "" {
		event = r.Header.Get("X-Gitea-Event")
	}
	if event == "" {
		return refuse(http.StatusBadRequest, "missing X-GitHub-Event header")
	}
	if _, err := githubPayload(r, body); err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	if event == "ping" {
		return Decision{Status: http.StatusOK, Message: "pong", Event: event}
	}
	if !eventAllowed(event, events) {
		return Decision{Status: http.StatusBadRequest, Message: fmt.Sprintf("GitHub event %q is not in spec.events", truncate(event, 64)), Event: event}
	}
	return Decision{Status: http.StatusOK, Trigger: true, Event: event}
}

// githubPayload returns the JSON payload: GitHub sends it raw (application/json) or as the
// `payload` form field (application/x-www-form-urlencoded).
func githubPayload(r *http.Request, body []byte) ([]byte, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("payload") == "" {
			return nil, fmt.Errorf("the form body has no payload field")
		}
		body = []byte(form.Get("payload"))
	}
	if _, err := ParseJSONObject(body); err != nil {
		return nil, err
	}
	return body, nil
}

func validateGitLab(r *http.Request, token string, events []string) Decision {
	if !tokenEqual(r.Header.Get("X-Gitlab-Token"), token) {
		return refuse(http.StatusUnauthorized, "X-Gitlab-Token does not match the Receiver's token")
	}
	event := r.Header.Get("X-Gitlab-Event")
	if !eventAllowed(event, events) {
		return Decision{Status: http.StatusBadRequest, Message: fmt.Sprintf("GitLab event %q is not in spec.events", truncate(event, 64)), Event: event}
	}
	return Decision{Status: http.StatusOK, Trigger: true, Event: event}
}

// validateBitbucket checks Bitbucket Server's X-Hub-Signature and filters X-Event-Key; the
// diagnostics ping is answered without trigger.
func validateBitbucket(r *http.Request, body []byte, token string, events []string) Decision {
	sig := r.Header.Get("X-Hub-Signature")
	if sig == "" {
		return refuse(http.StatusUnauthorized, "missing X-Hub-Signature header")
	}
	if err := verifyHMAC(sig, body, token, "sha256", "sha1"); err != nil {
		return refuse(http.StatusUnauthorized, "Bitbucket signature: %v", err)
	}
	event := r.Header.Get("X-Event-Key")
	if event == "diagnostics:ping" {
		return Decision{Status: http.StatusOK, Message: "pong", Event: event}
	}
	if !eventAllowed(event, events) {
		return Decision{Status: http.StatusBadRequest, Message: fmt.Sprintf("Bitbucket event %q is not in spec.events", truncate(event, 64)), Event: event}
	}
	return Decision{Status: http.StatusOK, Trigger: true, Event: event}
}

func validateHarbor(r *http.Request, token string) Decision {
	if !tokenEqual(r.Header.Get("Authorization"), token) {
		return refuse(http.StatusUnauthorized, "the Authorization header does not match the Receiver's token")
	}
	return Decision{Status: http.StatusOK, Trigger: true}
}

// validateNexus checks X-Nexus-Webhook-Signature, the hex HMAC-SHA1 of the body.
func validateNexus(r *http.Request, body []byte, token string) Decision {
	sig := r.Header.Get("X-Nexus-Webhook-Signature")
	if sig == "" {
		return refuse(http.StatusUnauthorized, "missing X-Nexus-Webhook-Signature header")
	}
	if err := compareHMAC(sha1.New, sig, body, token); err != nil {
		return refuse(http.StatusUnauthorized, "X-Nexus-Webhook-Signature: %v", err)
	}
	return payloadDecision(ParseNexus(body))
}
